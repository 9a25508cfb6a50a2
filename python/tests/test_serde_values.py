"""Python values in devalue text: what each Python type becomes, what comes back, and the errors
for what cannot be written or read (docs/python.md, "Payloads in Python")."""

from __future__ import annotations

import copy
import dataclasses
import enum
import math
import numbers
import pickle
import re
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import httpx
import pydantic
import pytest

from stepwise._serde import (
    UNDEFINED,
    URL,
    ClassInstance,
    JSMap,
    RegExp,
    SerializationError,
    SerializedError,
    TypedArray,
    URLSearchParams,
    error_shape,
    parse,
    register_error_reviver,
    stringify,
)
from stepwise.errors import StepwiseError

# -- primitives -------------------------------------------------------------------------------


def test_numbers_are_written_as_javascript_writes_them() -> None:
    assert stringify([1.0, 0.1, 1e21, 1e-7, 123e-20, 2.5e-6, 1e100, -0.0]) == (
        "[[1,2,3,4,5,6,7,-6],1,0.1,1e+21,1e-7,1.23e-18,0.0000025,1e+100]"
    )
    assert stringify([math.nan, math.inf, -math.inf]) == "[[-3,-4,-5]]"
    assert stringify(-0.0) == "-6"


def test_int_within_two_to_the_53_is_a_number_and_beyond_a_bigint() -> None:
    safe = 2**53 - 1
    assert stringify([safe, -safe]) == f"[[1,2],{safe},{-safe}]"
    assert stringify(2**53) == '[["BigInt","9007199254740992"]]'
    assert stringify(-(2**70)) == f'[["BigInt","{-(2**70)}"]]'
    assert parse(stringify(2**70)) == 2**70


def test_numbers_read_back_as_int_when_integral_and_safe_else_float() -> None:
    read = parse("[[1,2,3,4,5],1,1.5,9007199254740993,1e+21,-7]")
    assert read == [1, 1.5, 9007199254740992.0, 1e21, -7]
    assert [type(n) for n in read] == [int, float, float, float, int]  # type: ignore[attr-defined]
    negative_zero = parse("-6")
    assert isinstance(negative_zero, float) and math.copysign(1.0, negative_zero) < 0


def test_equal_numbers_share_an_entry_as_in_javascript_but_bools_do_not() -> None:
    assert stringify([1, 1.0, True, "1"]) == '[[1,1,2,3],1,true,"1"]'


def test_strings_are_escaped_as_devalue_escapes_them() -> None:
    text = stringify('q " b \\ n \n t \t <a> \u2028 \u2029 \x01 \x7f é 🚀')
    assert text == '["q \\" b \\\\ n \\n t \\t \\u003Ca> \\u2028 \\u2029 \\u0001 \x7f é 🚀"]'
    assert parse(text) == 'q " b \\ n \n t \t <a> \u2028 \u2029 \x01 \x7f é 🚀'


def test_a_lone_surrogate_is_a_json_escape_and_reads_back() -> None:
    text = stringify("a\ud800b")
    assert text == '["a\\ud800b"]'
    text.encode("utf-8")  # valid UTF-8
    assert parse(text) == "a\ud800b"


def test_str_int_and_float_subclasses_are_their_plain_values() -> None:
    class Color(enum.StrEnum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    assert stringify([Color.RED, Level.HIGH]) == '[[1,2],"red",3]'


def test_number_like_objects_are_numbers_but_fractions_and_decimals_are_refused() -> None:
    class Whole:  # stands for numpy.int64: registered as numbers.Integral
        def __int__(self) -> int:
            return 3

    class Measure:  # stands for numpy.float32: registered as numbers.Real
        def __float__(self) -> float:
            return 2.5

    numbers.Integral.register(Whole)
    numbers.Real.register(Measure)
    assert stringify([Whole(), 3, Measure(), 2.5]) == "[[1,1,2,2],3,2.5]"
    for exact in (Fraction(1, 3), Decimal("0.1")):
        with pytest.raises(SerializationError, match=r"pass str\(value\)"):
            stringify(exact)


def test_undefined_is_a_distinct_singleton_written_as_minus_one() -> None:
    assert stringify(UNDEFINED) == "-1"
    assert stringify({"a": UNDEFINED, "b": None}) == '[{"a":-1,"b":1},null]'
    assert parse("-1") is UNDEFINED
    assert not UNDEFINED and repr(UNDEFINED) == "UNDEFINED"
    assert copy.deepcopy(UNDEFINED) is UNDEFINED
    assert pickle.loads(pickle.dumps(UNDEFINED)) is UNDEFINED


def test_boxed_primitives_and_null_prototype_objects_read_as_plain_values() -> None:
    assert parse('[["Object",1],"boxed"]') == "boxed"
    assert parse('[["null","a",1,"b",2],1,"two"]') == {"a": 1, "b": "two"}
    view = parse('[["DataView",1],["ArrayBuffer","AQI="]]')
    assert view == TypedArray("DataView", b"\x01\x02")


def test_array_holes_and_sparse_arrays_read_as_undefined() -> None:
    assert parse("[[1,-2,2],1,3]") == [1, UNDEFINED, 3]
    assert parse("[[-7,5,1,1],\"x\"]") == [UNDEFINED, "x", UNDEFINED, UNDEFINED, UNDEFINED]


# -- containers -------------------------------------------------------------------------------


def test_object_keys_are_in_typescript_order_array_indices_first() -> None:
    assert stringify({"b": 1, "10": 2, "2": 3, "02": 4, "-1": 5}) == (
        '[{"2":1,"10":2,"b":3,"02":4,"-1":5},3,2,1,4,5]'
    )


def test_a_dict_with_other_keys_is_a_map_and_reads_back_as_jsmap() -> None:
    value = {1: "one", "two": 2, (3, 4): "tuple", datetime(2026, 1, 1, tzinfo=timezone.utc): "d"}
    text = stringify(value)
    assert text.startswith('[["Map",')
    read = parse(text)
    assert isinstance(read, JSMap)
    assert read[1] == "one" and read["two"] == 2 and read[(3, 4)] == "tuple"
    # A JSMap is written as a Map even when its keys are all strings: it was a Map in TypeScript.
    assert stringify(JSMap({"k": "v"})) == '[["Map",1,2],"k","v"]'
    assert stringify(parse('[["Map",1,2],"k","v"]')) == '[["Map",1,2],"k","v"]'


def test_tuples_are_arrays_and_read_back_as_lists_or_tuples_where_hashable_is_needed() -> None:
    assert stringify((1, "a")) == '[[1,2],1,"a"]'
    assert parse(stringify((1, "a"))) == [1, "a"]
    assert parse(stringify({(1, (2, 3)), (4,)})) == {(1, (2, 3)), (4,)}


def test_sets_are_written_in_a_stable_order() -> None:
    words = ["pear", "apple", "fig", "kiwi"]
    texts = {stringify(set(order)) for order in (words, list(reversed(words)))}
    assert texts == {'[["Set",1,2,3,4],"apple","fig","kiwi","pear"]'}
    assert stringify(frozenset({3, 1, 2})) == '[["Set",1,2,3],1,2,3]'
    assert stringify({"b", 2, None, True}) == '[["Set",1,2,3,4],null,true,2,"b"]'


def test_repeated_and_cyclic_values_are_written_once_and_read_back_shared() -> None:
    shared = {"k": 1}
    cyclic: dict[str, object] = {"name": "loop"}
    cyclic["self"] = cyclic
    text = stringify([shared, shared, cyclic])
    assert text == '[[1,1,3],{"k":2},1,{"name":4,"self":3},"loop"]'
    read = parse(text)
    assert isinstance(read, list)
    assert read[0] is read[1]
    assert read[2]["self"] is read[2]
    loop: list[object] = [1]
    loop.append(loop)
    again = parse(stringify(loop))
    assert isinstance(again, list) and again[1] is again


def test_deep_nesting_is_a_serialization_error_not_a_crash() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(SerializationError, match="nested too deeply"):
        stringify(deep)


# -- dates, bytes, URLs, regular expressions, headers, classes ---------------------------------


def test_datetimes_are_dates_in_utc_with_milliseconds() -> None:
    aware = datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=timezone(timedelta(hours=2)))
    assert stringify(aware) == '[["Date","2026-01-02T01:04:05.678Z"]]'
    read = parse(stringify(aware))
    assert read == datetime(2026, 1, 2, 1, 4, 5, 678000, tzinfo=timezone.utc)
    assert isinstance(read, datetime) and read.tzinfo == timezone.utc


def test_early_years_are_written_with_four_digits() -> None:
    early = datetime(999, 1, 2, tzinfo=timezone.utc)
    assert stringify(early) == '[["Date","0999-01-02T00:00:00.000Z"]]'
    assert parse(stringify(early)) == early


def test_str_subclass_keys_keep_a_dict_a_plain_object() -> None:
    class Field(enum.StrEnum):
        NAME = "name"

    assert stringify({Field.NAME: "Ada"}) == '[{"name":1},"Ada"]'


def test_ints_past_pythons_digit_limit_are_refused_by_name() -> None:
    huge = 10**5000
    with pytest.raises(SerializationError, match="more than Python converts to text"):
        stringify(huge)
    with pytest.raises(SerializationError, match="a BigInt of 5001 digits"):
        parse('[["BigInt","1' + "0" * 5000 + '"]]')
    with pytest.raises(SerializationError, match="without its digits"):
        parse('[["BigInt","1_000"]]')


def test_a_naive_datetime_is_local_time_as_python_takes_it() -> None:
    naive = datetime(2026, 6, 1, 12, 0, 0)
    assert parse(stringify(naive)) == naive.astimezone(timezone.utc)


def test_bytes_are_a_uint8array() -> None:
    assert stringify(b"\x01\x02\xff") == '[["Uint8Array",1],["ArrayBuffer","AQL/"]]'
    assert stringify(bytearray(b"\x01\x02\xff")) == '[["Uint8Array",1],["ArrayBuffer","AQL/"]]'
    assert stringify(memoryview(b"\x01\x02\xff")) == '[["Uint8Array",1],["ArrayBuffer","AQL/"]]'
    assert parse('[["Uint8Array",1],["ArrayBuffer","AQL/"]]') == b"\x01\x02\xff"
    assert parse('[["Uint8Array",1,1,2],["ArrayBuffer","AQL/"]]') == b"\x02\xff"
    assert parse('[["ArrayBuffer","AQL/"]]') == b"\x01\x02\xff"


def test_other_typed_arrays_keep_their_kind() -> None:
    text = '[["Float64Array",1],["ArrayBuffer","AAAAAAAA+D8AAAAAAAAAwA=="]]'
    read = parse(text)
    assert isinstance(read, TypedArray) and read.kind == "Float64Array"
    assert read.view().tolist() == [1.5, -2.0]
    assert stringify(read) == text
    assert stringify(memoryview(b"\xff\xff\x02\x00").cast("h")) == '[["Int16Array",1],["ArrayBuffer","//8CAA=="]]'


def test_urls_and_search_params_are_strings_that_remember_their_type() -> None:
    url = parse('[["URL","https://example.com/a?b=1"]]')
    assert isinstance(url, URL) and url == "https://example.com/a?b=1"
    assert stringify(url) == '[["URL","https://example.com/a?b=1"]]'
    params = parse('[["URLSearchParams","a=1&b=2"]]')
    assert isinstance(params, URLSearchParams) and stringify(params) == '[["URLSearchParams","a=1&b=2"]]'


def test_regular_expressions() -> None:
    assert stringify(re.compile("a.b", re.IGNORECASE | re.DOTALL)) == '[["RegExp","a.b","is"]]'
    assert stringify(re.compile("x")) == '[["RegExp","x"]]'
    pattern = parse('[["RegExp","ab+c","im"]]')
    assert isinstance(pattern, re.Pattern) and pattern.flags & re.IGNORECASE and pattern.flags & re.MULTILINE
    kept = parse('[["RegExp","ab+c","gi"]]')
    assert kept == RegExp("ab+c", "gi") and kept.compile().search("xABBC")  # type: ignore[union-attr]
    assert parse('[["RegExp","(?<year>\\\\d{4})"]]') == RegExp("(?<year>\\d{4})", "")
    with pytest.raises(SerializationError, match="VERBOSE"):
        stringify(re.compile("a b", re.VERBOSE))
    with pytest.raises(SerializationError, match="bytes regular expression"):
        stringify(re.compile(b"x"))


def test_headers_are_written_as_typescript_lists_them() -> None:
    headers = httpx.Headers([("B", "1"), ("a", "2"), ("b", "3"), ("Set-Cookie", "x=1"), ("set-cookie", "y=2")])
    text = stringify(headers)
    assert text == (
        '[["Headers",1],[2,5,8,11],[3,4],"a","2",[6,7],"b","1, 3",[9,10],"set-cookie","x=1",[9,12],"y=2"]'
    )
    read = parse(text)
    assert isinstance(read, httpx.Headers)
    assert read["b"] == "1, 3" and read.get_list("set-cookie") == ["x=1", "y=2"]
    assert stringify(read) == text


def test_typescript_class_instances_pass_through() -> None:
    text = '[["Class",1],[2,3],"class//src/money.ts//Money",{"cents":4},250]'
    read = parse(text)
    assert read == ClassInstance("class//src/money.ts//Money", {"cents": 250})
    assert stringify(read) == text


# -- dataclasses and pydantic models ---------------------------------------------------------------


@dataclasses.dataclass
class Line:
    sku: str
    qty: int


@dataclasses.dataclass
class Order:
    id: str
    lines: list[Line]
    placed: datetime


class Address(pydantic.BaseModel):
    city: str
    zip_code: str = pydantic.Field(alias="zipCode")


class Customer(pydantic.BaseModel):
    name: str
    since: datetime
    address: Address
    tags: set[str] = set()
    score: Decimal = Decimal("1.5")


def test_a_dataclass_is_a_plain_object_of_its_fields() -> None:
    placed = datetime(2026, 1, 1, tzinfo=timezone.utc)
    order = Order("o1", [Line("a", 2)], placed)
    assert stringify(order) == (
        '[{"id":1,"lines":2,"placed":6},"o1",[3],{"sku":4,"qty":5},"a",2,["Date","2026-01-01T00:00:00.000Z"]]'
    )
    assert parse(stringify(order)) == {"id": "o1", "lines": [{"sku": "a", "qty": 2}], "placed": placed}


def test_a_pydantic_model_is_its_json_dump_and_validates_back() -> None:
    customer = Customer.model_validate(
        {"name": "Ada", "since": "2026-01-02T03:04:05Z", "address": {"city": "Paris", "zipCode": "75001"}}
    )
    read = parse(stringify(customer))
    assert read == {
        "name": "Ada",
        "since": "2026-01-02T03:04:05Z",
        "address": {"city": "Paris", "zipCode": "75001"},
        "tags": [],
        "score": "1.5",
    }
    assert Customer.model_validate(read) == customer


def test_an_unwritable_field_is_named_by_its_attribute() -> None:
    with pytest.raises(SerializationError) as refused:
        stringify([Line("a", threading.Lock())], root="result")  # type: ignore[arg-type]
    assert refused.value.path == "result[0].qty"
    assert "_thread.lock" in str(refused.value)


# -- exceptions -----------------------------------------------------------------------------------


def _raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:  # noqa: BLE001 - the test wants it with its traceback
        return caught


def test_an_exception_is_an_error_entry_with_its_traceback_and_cause() -> None:
    try:
        try:
            {}["missing"]  # noqa: B018
        except KeyError as inner:
            raise ValueError("order o1 is invalid") from inner
    except ValueError as outer:
        error = outer
    text = stringify(error)
    assert text.startswith('[["Error",1],{"name":2,"message":3,"stack":4,"cause":5},"ValueError","order o1 is invalid"')
    read = parse(text)
    assert type(read) is ValueError and str(read) == "order o1 is invalid"
    assert type(read.__cause__) is KeyError and str(read.__cause__) == "'missing'"
    shape = error_shape(read)
    assert shape is not None
    assert "Traceback (most recent call last)" in str(shape["stack"])
    assert 'raise ValueError("order o1 is invalid") from inner' in str(shape["stack"])
    assert stringify(read) == text  # written again, it is the same entry


def test_an_error_python_has_no_class_for_is_a_serialized_error() -> None:
    text = '[["Error",1],{"name":2,"message":3,"stack":4,"code":5},"PaymentDeclined","card refused","PaymentDeclined: card refused\\n    at pay (pay.ts:3:9)","E_CARD"]'
    read = parse(text)
    assert isinstance(read, SerializedError)
    assert (read.name, str(read), read.code) == ("PaymentDeclined", "card refused", "E_CARD")
    assert read.stack is not None and "pay.ts:3:9" in read.stack
    with pytest.raises(SerializedError, match="card refused"):
        raise read
    assert stringify(read) == text


def test_stepwise_errors_carry_their_code_and_props_that_are_data() -> None:
    class QuotaError(StepwiseError):
        code = "QUOTA"

    error = QuotaError("over quota")
    error.limit = 10  # type: ignore[attr-defined]
    error.lock = threading.Lock()  # type: ignore[attr-defined]
    read = parse(stringify(error))
    shape = error_shape(read)  # type: ignore[arg-type]
    assert shape is not None
    assert (shape["name"], shape["message"], shape["code"]) == ("QuotaError", "over quota", "QUOTA")
    assert shape["props"] == {"limit": 10}  # the lock is not data: left out, not fatal


def test_retry_after_becomes_milliseconds_or_a_date() -> None:
    class Later(Exception):
        def __init__(self, retry_after: object) -> None:
            super().__init__("later")
            self.retry_after = retry_after

    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for given, written in ((timedelta(seconds=1.5), 1500), (30, 30000), (when, when), ("5m", "5m")):
        shape = error_shape(parse(stringify(Later(given))))  # type: ignore[arg-type]
        assert shape is not None and shape["retryAfter"] == written


def test_exception_groups_keep_their_exceptions() -> None:
    group = ExceptionGroup("two failed", [ValueError("a"), TypeError("b")])
    read = parse(stringify(group))
    assert isinstance(read, ExceptionGroup)
    assert [type(e) for e in read.exceptions] == [ValueError, TypeError]
    aggregate = parse('[["Error",1],{"name":2,"message":3,"errors":4},"AggregateError","all failed",[5],["Error",6],{"name":7,"message":8},"Error","x"]')
    assert isinstance(aggregate, ExceptionGroup) and isinstance(aggregate.exceptions[0], SerializedError)


def test_control_flow_and_process_exits_are_never_revived_as_themselves() -> None:
    for name in ("StopIteration", "StopAsyncIteration", "KeyboardInterrupt", "SystemExit"):
        read = parse(f'[["Error",1],{{"name":2,"message":3}},"{name}","x"]')
        assert type(read) is SerializedError and read.name == name


def test_a_reviver_registered_for_a_code_builds_the_exception() -> None:
    class Fatal(StepwiseError):
        code = "TEST_FATAL_REVIVER"

    register_error_reviver("TEST_FATAL_REVIVER", lambda shape: Fatal(str(shape["message"])))
    read = parse(stringify(Fatal("stop")))
    assert type(read) is Fatal and str(read) == "stop"


# -- what cannot be written ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "path", "says"),
    [
        ({"items": [1, 2, 3, threading.Lock()]}, 'result["items"][3]', "_thread.lock"),
        ({"callback": lambda: 1}, 'result["callback"]', "functions cannot cross"),
        ([date(2026, 1, 1)], "result[0]", "pass a datetime"),
        ([Decimal("1.5")], "result[0]", "str(value)"),
        ({"k": {1: enum.Enum("Size", "BIG").BIG}}, 'result["k"][1]', "its .value"),  # type: ignore[attr-defined]
        ({"__proto__": 1}, "result", "__proto__"),
        ({threading.Lock(): 1}, "result (key 0 of the dict)", "_thread.lock"),
        (iter([1]), "result", "list(...)"),
    ],
)
def test_an_unwritable_value_is_named_with_its_path(value: object, path: str, says: str) -> None:
    with pytest.raises(SerializationError) as refused:
        stringify(value, root="result")
    assert refused.value.path.startswith(path)
    assert str(refused.value).startswith(refused.value.path + " cannot be serialized")
    assert says in str(refused.value)
    assert "Pass or return plain data" in str(refused.value)
    assert refused.value.code == "SERIALIZATION"


def test_a_set_member_that_cannot_be_written_is_named() -> None:
    class Opaque:
        def __hash__(self) -> int:
            return 1

    with pytest.raises(SerializationError, match=r"value \(member 0 of the set\) cannot be serialized"):
        stringify({Opaque()})


# -- what cannot be read ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not json", "not JSON"),
        ("[]", "non-empty array"),
        ("7", "the number 7 alone"),
        ("[[1,9]]", "entry 1 of 1"),
        ('[["Set",1],{}]', "Set holding a dict"),
        ('[["Map",1,2],{},3,1]', "Map keyed by a dict"),
        ('[["Map",1,2,3,4],true,"a",1,"b"]', "one key in Python"),
        ('[["Date",""]]', "invalid JavaScript Date"),
        ('[["Date","+275760-09-13T00:00:00.000Z"]]', "years 1 to 9999"),
        ('[["Temporal.PlainDate","2026-01-01"]]', "Temporal.PlainDate"),
        ('[["Frobnicator",1]]', "newer Stepwise"),
        ('[["Error",0]]', "contains itself"),
        ('[["Uint8Array",1],"x"]', "does not refer to an ArrayBuffer"),
    ],
)
def test_text_that_cannot_be_read_is_refused_with_what_it_holds(text: str, says: str) -> None:
    with pytest.raises(SerializationError, match=re.escape(says)):
        parse(text)
