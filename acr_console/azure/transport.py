"""azure-core's async transport over httpx, so ARM, the credential and Microsoft Graph share one
HTTP stack.

msgraph (kiota) requires httpx; azure-core's own async transport is aiohttp's. Importing both costs
every process that touches ARM about 0.2 s more than one of them: aiohttp alone loads the system CA
store twice at import (for default contexts the console never uses, docs/reference/sdk-wiring.md §4). Errors map
to azure-core's exceptions exactly as its aiohttp transport maps aiohttp's, so its retry policy
treats them the same: a connection that fails or drops → ServiceRequestError (retried for any
method), a read that times out → ServiceResponseTimeoutError.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import httpx
from azure.core.exceptions import (
    DecodeError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline.transport import AsyncHttpTransport
from azure.core.rest._http_response_impl_async import AsyncHttpResponseImpl


class HttpxTransportResponse(AsyncHttpResponseImpl):
    def __init__(self, request: Any, response: httpx.Response) -> None:
        super().__init__(request=request, internal_response=response, status_code=response.status_code,
                         headers=response.headers, reason=response.reason_phrase,
                         content_type=response.headers.get("content-type"),
                         stream_download_generator=_StreamDownload)

    def body(self) -> bytes:
        # Loaded by send() unless streamed (then read() fills it); httpx keeps it only after aread().
        return self._content if self._content is not None else self.internal_response.content

    async def load_body(self) -> None:
        self._content = await self.internal_response.aread()

    async def close(self) -> None:
        if not self.is_closed:
            self._is_closed = True
            await self.internal_response.aclose()


class _StreamDownload(AsyncIterator[bytes]):
    def __init__(self, pipeline: Any, response: HttpxTransportResponse, *, decompress: bool = True,
                 **kwargs: Any) -> None:
        self.response = response
        inner = response.internal_response
        self._chunks = inner.aiter_bytes() if decompress else inner.aiter_raw()

    async def __anext__(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except StopAsyncIteration:
            await self.response.internal_response.aclose()
            raise
        except httpx.DecodingError as err:
            raise DecodeError(str(err)) from err


class HttpxTransport(AsyncHttpTransport):
    """Sends azure-core requests with an httpx.AsyncClient that its owner opens and closes."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __aenter__(self) -> HttpxTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None  # the owner closes the client, once, for every pipeline that shares it

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def send(self, request: Any, *, stream: bool = False, **config: Any) -> HttpxTransportResponse:
        if request.files:
            raise ValueError("multipart request bodies are not supported by this transport")
        body = request.data
        timeout = httpx.Timeout(config.pop("read_timeout", self.client.timeout.read),
                                connect=config.pop("connection_timeout", self.client.timeout.connect))
        built = self.client.build_request(
            request.method, request.url, headers=dict(request.headers), timeout=timeout,
            **({"data": body} if isinstance(body, dict) else {"content": body}),
        )
        try:
            response = await self.client.send(built, stream=True, follow_redirects=False)
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as err:
            raise ServiceRequestTimeoutError(err, error=err) from err
        except httpx.TimeoutException as err:
            raise ServiceResponseTimeoutError(err, error=err) from err
        except httpx.TransportError as err:
            raise ServiceRequestError(err, error=err) from err
        result = HttpxTransportResponse(request, response)
        if not stream:  # as azure-core's transports do: the body read, the response closed
            try:
                await response.aread()
            except httpx.TimeoutException as err:
                raise ServiceResponseTimeoutError(err, error=err) from err
            except httpx.TransportError as err:
                raise ServiceRequestError(err, error=err) from err
            finally:
                await response.aclose()
            result._content = response.content
            result._is_stream_consumed = True
            result._is_closed = True
        return result


class SpreadTransport(httpx.AsyncBaseTransport):
    """Requests spread over several connection pools, each sent through the pool with the fewest in
    flight (a request counts until its response is closed).

    Why not one pool of 64: httpcore's pool re-examines every connection it holds each time a request
    is queued or finished (`AsyncConnectionPool._assign_requests_to_connections`: closed? expired?),
    and for an idle connection "expired" means building anyio's socket-attribute table (with a
    getpeername() call) and polling the socket. With 48 requests in flight on one pool of 64 that was
    about 5 ms of CPU a request on this project's benchmark machine; spread over 8 pools of 8, the
    same 64 connections cost 1.1 ms a request, over 16 pools of 4 0.9 ms (one request at a time: 0.8
    ms). `report` on large:20000 (2,000 requests) fell from 11 s of CPU to 8.6 with 8 pools. Only public
    httpx interfaces are used (AsyncBaseTransport, AsyncByteStream); each pool is an
    httpx.AsyncHTTPTransport built as the single one was."""

    def __init__(self, pools: Iterable[httpx.AsyncBaseTransport]) -> None:
        self._pools = list(pools)
        self._busy = [0] * len(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        i = min(range(len(self._busy)), key=self._busy.__getitem__)
        self._busy[i] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._busy[i] -= 1

        try:
            response = await self._pools[i].handle_async_request(request)
        except BaseException:
            release()
            raise
        return httpx.Response(status_code=response.status_code, headers=response.headers,
                              stream=_ReleasingStream(response.stream, release), extensions=response.extensions)

    @property
    def in_flight(self) -> tuple[int, ...]:
        """Requests each pool holds now (sent, response not closed yet)."""
        return tuple(self._busy)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _ReleasingStream(httpx.AsyncByteStream):
    """A response body that tells its pool's count when it is closed (read to the end or not)."""

    def __init__(self, stream: Any, release: Callable[[], None]) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            self._release()
