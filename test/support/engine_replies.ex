defmodule SnakeBridge.Test.EngineReplies do
  @moduledoc false
  # Python that plays a worker's reply writer outside any worker: the engine's own
  # Replies, writing each frame into `capture.frames` as bytes. The code it starts
  # must bind `tag` (the requests' tag) and `worker_term` (the worker's identity as
  # the engine copies it into refs: ETF without its version byte).

  @doc "The prelude: `replies`, its `registry`, `capture`, and `request(mode)`."
  def python do
    """
    from snakebridge._aio import EventLoopThread
    from snakebridge._etf import Atom
    from snakebridge._inflight import InFlight
    from snakebridge._registry import Registry
    from snakebridge._replies import Replies
    from snakebridge._request import build_header, parse_header
    from snakebridge._wire import Op, ReturnMode

    class Capture:
        def __init__(self):
            self.frames = []
        def write_small(self, frame):
            self.frames.append(bytes(frame))
        def write_frame(self, chunks):
            self.frames.append(b"".join(bytes(c) for c in chunks))

    capture = Capture()
    registry = Registry(max_refs=1000)
    replies = Replies(writer=capture, registry=registry, worker_term=worker_term,
                      inflight=InFlight(), aio=EventLoopThread())

    def request(mode):
        header = build_header(Op.CALL, flags=int(mode), tag=tag, session=7, caller=8)
        return parse_header(header + b"\\x83j")[0]

    """
  end
end
