"""Step retry policy, the same as the TypeScript engine's (src/runtime/retry.ts).

By default a step gets 64 attempts; the first retry waits 5 s and each later one twice as long,
capped at one hour. `FatalError` (and Cloudflare's `NonRetryableError`) never retries;
`RetryableError(retry_after=…)` sets the next delay itself. Per step: `max_retries=N` (N retries
after the first attempt), or Cloudflare's `config={"retries": {"limit", "delay", "backoff"}}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ..errors import FatalError, RetryableError
from .durations import deadline_ms, duration_ms

DEFAULT_MAX_RETRIES = 63
DEFAULT_RETRY_DELAY_MS = 5_000
MAX_RETRY_DELAY_MS = 60 * 60 * 1000
#: Interrupted attempts (the worker died mid-step) beyond the maximum before the step fails.
INTERRUPTION_ALLOWANCE = 3

Backoff = Literal["constant", "linear", "exponential"]


@dataclass(slots=True, frozen=True)
class StepPolicy:
    """How a step is retried and how long an attempt may take."""

    max_retries: int = DEFAULT_MAX_RETRIES
    delay_ms: int = DEFAULT_RETRY_DELAY_MS
    backoff: Backoff = "exponential"
    #: An attempt running longer than this fails (as a retryable error); None: no limit.
    timeout_ms: int | None = None

    @property
    def max_attempts(self) -> int:
        return max(0, self.max_retries) + 1


def backoff_delay(policy: StepPolicy, attempt: int) -> int:
    """The wait before the attempt after `attempt`."""
    n = max(1, attempt)
    if policy.backoff == "constant":
        delay = policy.delay_ms
    elif policy.backoff == "linear":
        delay = policy.delay_ms * n
    else:
        delay = policy.delay_ms * 2 ** min(n - 1, 40)
    return min(delay, MAX_RETRY_DELAY_MS)


@dataclass(slots=True, frozen=True)
class RetryDecision:
    """Retry at `retry_at` (epoch ms), or not: then `fatal` says whether the error asked for it."""

    retry: bool
    retry_at: int = 0
    fatal: bool = False


def decide_retry(policy: StepPolicy, attempt: int, error: BaseException, now: int) -> RetryDecision:
    """What to do after attempt `attempt` of a step raised `error`."""
    if isinstance(error, FatalError):
        return RetryDecision(False, fatal=True)
    if attempt >= policy.max_attempts:
        return RetryDecision(False)
    if isinstance(error, RetryableError) and error.retry_after is not None:
        try:
            after = error.retry_after
            at = deadline_ms(after) if isinstance(after, datetime) else now + duration_ms(after)
            return RetryDecision(True, max(now, at))
        except Exception:
            pass  # an unreadable retry_after falls back to the policy's delay
    return RetryDecision(True, now + backoff_delay(policy, attempt))


def policy_from_config(config: object, where: str) -> StepPolicy:
    """A Cloudflare `WorkflowStepConfig` dict (`{"retries": {"limit", "delay", "backoff"}, "timeout"}`)
    as a policy; a malformed one is a `ValueError` naming `where` and the field."""
    if config is None:
        return StepPolicy()
    if not isinstance(config, dict):
        raise ValueError(f"{where}: config must be a dict like {{'retries': {{'limit': 3}}}}, got {config!r}")
    unknown = set(config) - {"retries", "timeout"}
    if unknown:
        raise ValueError(f"{where}: unknown config field(s) {sorted(unknown)}; a step takes 'retries' and 'timeout'")
    retries = config.get("retries")
    policy = StepPolicy()
    if retries is not None:
        if not isinstance(retries, dict):
            raise ValueError(f"{where}: config['retries'] must be a dict with 'limit', 'delay' and 'backoff'")
        unknown = set(retries) - {"limit", "delay", "backoff"}
        if unknown:
            raise ValueError(f"{where}: unknown retries field(s) {sorted(unknown)}: use limit, delay, backoff")
        limit = retries.get("limit", DEFAULT_MAX_RETRIES)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError(f"{where}: retries['limit'] must be a whole number >= 0, got {limit!r}")
        backoff = retries.get("backoff", "exponential")
        if backoff not in ("constant", "linear", "exponential"):
            raise ValueError(f"{where}: retries['backoff'] must be 'constant', 'linear' or 'exponential', got {backoff!r}")
        delay = retries.get("delay")
        policy = StepPolicy(
            max_retries=limit,
            delay_ms=DEFAULT_RETRY_DELAY_MS if delay is None else duration_ms(delay, f"{where}: retries['delay']"),
            backoff=backoff,
        )
    timeout = config.get("timeout")
    if timeout is not None:
        policy = StepPolicy(
            policy.max_retries, policy.delay_ms, policy.backoff, duration_ms(timeout, f"{where}: config['timeout']")
        )
    return policy
