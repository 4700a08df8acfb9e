# What the pieces of a small call cost live, each read as a paired difference between
# two cases run in turn in the same rounds, pinned to one CPU:
#
#     taskset -c 0 mix run bench/call_split.exs
#
# On one CPU shared with the worker, each distinct thing the VM touches on a call is
# cold again after the worker has run, and costs several times what it costs in a
# loop; whole-run medians of a noisy machine do not resolve differences below a
# microsecond, paired rounds do (BenchHelper.paired/3). The cases:
#
# * floor: the raw port echo;
# * frame: the call's request frame, built once but for its tag, written to the
#   worker's port, its reply taken from the router (as in bench/latency.exs);
# * frame_timer: the same, waiting as a call waits, with an `after` (a timer);
# * frame_decoded: the same, its reply decoded by binary_to_term, as every reply was
#   before replies of one scalar were read by a match;
# * frame_transport / frame_local_port: frame_timer's frame sent through the transport
#   seam (SnakeBridge.Pool.Transport.send_frame/2, which looks the transport's module
#   up) and through SnakeBridge.Pool.Transport.LocalPort.send_frame/2 named, as a
#   call's first send does;
# * call: SnakeBridge.call("math", "sqrt", [16]), which takes the fast path
#   (SnakeBridge.Call.fast_call/3);
# * call_general: the same with an option (`pool: :default`), which takes the general
#   path: options checked, arguments prepared, routed through SnakeBridge.Call.Route;
# * call_unkept: the general path with the route the calling process keeps forgotten
#   first, so it reads the pool's facts and its worker's entry from the table.
Code.require_file("bench_helper.exs", __DIR__)

require SnakeBridge.Pool.Entry
alias SnakeBridge.Call.Header
alias SnakeBridge.Pool.{Entry, Frames, Router, Transport}
alias SnakeBridge.Pool.Transport.LocalPort

python = BenchHelper.python()
echo = BenchHelper.open_echo(python)
payload = :binary.copy("x", 20)

{_meta, _index, entry, session} = SnakeBridge.Call.__route__(:default)
Entry.ready(transport: %{port: port} = transport, load: load) = entry
caller = SnakeBridge.Session.caller_id()
body = [4, "math", 4, "sqrt" | :erlang.term_to_binary([16])]

send_frame = fn send ->
  {tag, id} = Router.call_tag()
  # Checked in as a call is: the router counts every final reply out.
  :atomics.add(load, 1, 1)
  send.([Header.build(:call_module, 0, tag, session.id, caller, <<>>) | body])
  id
end

port_command = fn frame -> Port.command(port, Frames.frame(frame)) end

# The frame sent with `send`, its reply awaited as a call awaits it, and `read`.
timed_frame = fn send, read ->
  fn ->
    id = send_frame.(send)

    receive do
      {:snakebridge_reply, ^id, _kind, reply} -> read.(reply)
    after
      50 -> :timeout
    end
  end
end

as_is = fn reply -> reply end

cases = [
  floor: fn -> BenchHelper.echo(echo, payload) end,
  frame: fn ->
    id = send_frame.(port_command)

    receive do
      {:snakebridge_reply, ^id, _kind, reply} -> reply
    end
  end,
  frame_timer: timed_frame.(port_command, as_is),
  frame_transport: timed_frame.(&Transport.send_frame(transport, &1), as_is),
  frame_local_port: timed_frame.(&LocalPort.send_frame(transport, &1), as_is),
  frame_decoded: timed_frame.(port_command, &:erlang.binary_to_term(&1, [:safe])),
  call: fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16]) end,
  call_general: fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16], [], pool: :default) end,
  call_unkept: fn ->
    :erlang.erase(:snakebridge_route)
    {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16], [], pool: :default)
  end
]

for _ <- 1..3_000, {_name, fun} <- cases, do: fun.()
rows = BenchHelper.paired(cases, 120, 300)

us = fn a, b -> BenchHelper.us(BenchHelper.paired_median(rows, a, b)) end

split = %{
  floor_us: BenchHelper.us(BenchHelper.paired_median(rows, :floor)),
  ratio_call_floor: Float.round(BenchHelper.paired_ratio(rows, :call, :floor), 3),
  worker_hop_send_over_floor_us: us.(:frame, :floor),
  receive_timer_us: us.(:frame_timer, :frame),
  binary_to_term_of_the_reply_us: us.(:frame_decoded, :frame_timer),
  transport_lookup_us: us.(:frame_transport, :frame_local_port),
  elixir_api_over_the_frame_us: us.(:call, :frame_timer),
  general_path_over_the_fast_us: us.(:call_general, :call),
  table_reads_the_kept_route_saves_us: us.(:call_unkept, :call_general)
}

IO.puts("""
paired medians over 120 rounds of 300 of each case:
  floor (raw echo)                               #{split.floor_us} µs
  call / floor                                   #{split.ratio_call_floor}
  the worker, router hop and bare send           +#{split.worker_hop_send_over_floor_us} µs over the floor
  the call's receive timer                       +#{split.receive_timer_us} µs
  binary_to_term of the reply (now a match)      +#{split.binary_to_term_of_the_reply_us} µs
  the transport's module looked up (now named)   +#{split.transport_lookup_us} µs
  the rest of the Elixir API                     +#{split.elixir_api_over_the_frame_us} µs over the timed frame
  the general path (an option given)             +#{split.general_path_over_the_fast_us} µs over the fast path
  the pool's table read each call (now kept)     +#{split.table_reads_the_kept_route_saves_us} µs
""")

BenchHelper.record("call_split", %{
  command: "taskset -c 0 mix run bench/call_split.exs",
  machine: BenchHelper.machine(),
  split: split
})
