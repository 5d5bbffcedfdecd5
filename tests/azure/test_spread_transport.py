"""SpreadTransport (azure/transport.py): requests spread over several connection pools, each to the
pool with the fewest in flight, a request counting until its response is closed.

The pools here are stand-ins that hold each response until the test lets it go, so what is in flight
at a given moment is exact; every sandbox test sends its ARM requests through the real arrangement
(AzureClients: 8 httpx.AsyncHTTPTransport pools of 8)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from acr_console.azure.transport import SpreadTransport


class _Pool(httpx.AsyncBaseTransport):
    """A pool that answers when `gate` opens; `held` counts responses not closed yet."""

    def __init__(self, gate: asyncio.Event, *, fail: bool = False) -> None:
        self.gate = gate
        self.fail = fail
        self.held = 0
        self.served = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.served += 1
        if self.fail:
            raise httpx.ConnectError("refused", request=request)
        self.held += 1
        await self.gate.wait()
        return httpx.Response(200, stream=_Body(self))


class _Body(httpx.AsyncByteStream):
    def __init__(self, pool: _Pool) -> None:
        self.pool = pool

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"value": []}'

    async def aclose(self) -> None:
        self.pool.held -= 1


async def test_requests_go_to_the_least_busy_pool_and_count_until_closed() -> None:
    gate = asyncio.Event()
    pools = [_Pool(gate) for _ in range(3)]
    spread = SpreadTransport(pools)
    async with httpx.AsyncClient(transport=spread) as client:
        sent = [asyncio.ensure_future(client.get("https://management.example/x")) for _ in range(12)]
        await asyncio.sleep(0)
        while sum(spread.in_flight) < 12:
            await asyncio.sleep(0)
        assert spread.in_flight == (4, 4, 4)  # evenly, whatever order they came in
        gate.set()
        responses = await asyncio.gather(*sent)
        assert all(r.json() == {"value": []} for r in responses)  # read to the end, so closed
    assert spread.in_flight == (0, 0, 0)
    assert [p.held for p in pools] == [0, 0, 0]


async def test_a_response_left_unread_counts_until_it_is_closed() -> None:
    gate = asyncio.Event()
    gate.set()
    spread = SpreadTransport([_Pool(gate), _Pool(gate)])
    async with httpx.AsyncClient(transport=spread) as client:
        request = client.build_request("GET", "https://management.example/x")
        response = await client.send(request, stream=True)
        assert spread.in_flight == (1, 0)
        second = await client.send(client.build_request("GET", "https://management.example/y"), stream=True)
        assert spread.in_flight == (1, 1)  # the busy pool is passed over
        await response.aclose()
        await response.aclose()  # closing twice releases once
        assert spread.in_flight == (0, 1)
        await second.aclose()
        assert spread.in_flight == (0, 0)


async def test_one_at_a_time_stays_on_the_first_pool() -> None:
    # A command that sends its requests one after another reuses the first pool's connection.
    gate = asyncio.Event()
    gate.set()
    pools = [_Pool(gate) for _ in range(4)]
    async with httpx.AsyncClient(transport=SpreadTransport(pools)) as client:
        for _ in range(5):
            (await client.get("https://management.example/x")).raise_for_status()
    assert [p.served for p in pools] == [5, 0, 0, 0]


async def test_a_request_that_fails_is_not_counted() -> None:
    spread = SpreadTransport([_Pool(asyncio.Event(), fail=True)])
    async with httpx.AsyncClient(transport=spread) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("https://management.example/x")
    assert spread.in_flight == (0,)

