"""Workflows that misbehave, for the tests of what users are told."""

import socket

from stepwise import workflow

wf = workflow.Workflows()


@wf.step
async def returns_a_socket() -> object:
    return socket.socket()


@wf.workflow
async def unserializable_result():
    return await returns_a_socket()


@wf.workflow
async def opens_a_file():
    with open("/etc/hostname") as handle:
        return handle.read()
