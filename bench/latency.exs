# Small-call latency against the raw port echo floor, in one run, pinned to one CPU:
#
#     taskset -c 0 mix run bench/latency.exs
#
# 1. floor: a 20-byte frame echoed by a minimal Python loop on fds 3/4;
# 2. SnakeBridge.call("math", "sqrt", [16]);
# 3. the Python codec's encode+decode of that call term (measured in Python);
# 4. CPU time per echo and per call, of this VM and of the Python process on the other
#    end, from /proc/<pid>/task/*/schedstat, so a slow machine (everything costs more)
#    can be told from a regression (one side's work grew);
# 5. the call's split, interleaved with the two above: the same request frame, built
#    once but for its tag, written straight to the worker's port and its reply taken
#    from the router (the worker's whole work, the router hop and the bare send: tag,
#    header, port command), without the rest of the Elixir API; the call less this is
#    that rest's share, this less the floor mostly the worker's;
# 6. the floor's echo through a forwarding process, as a worker's replies go through its
#    router (and with the port in stream mode, as a worker's is): this less the floor is
#    what the hop alone costs.
Code.require_file("bench_helper.exs", __DIR__)

require SnakeBridge.Pool.Entry
alias SnakeBridge.Call.Header
alias SnakeBridge.Pool.{Entry, Frames, Router}

python = BenchHelper.python()
echo = BenchHelper.open_echo(python)
payload = :binary.copy("x", 20)
call = fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16]) end

{_meta, _index, entry, session} = SnakeBridge.Call.__route__(:default)
Entry.ready(transport: %{port: port}, load: load) = entry
caller = SnakeBridge.Session.caller_id()
body = [4, "math", 4, "sqrt" | :erlang.term_to_binary([16])]

frame_only = fn ->
  {tag, id} = Router.call_tag()
  # Checked in as a call is: the router counts every final reply out.
  :atomics.add(load, 1, 1)
  request = [Header.build(:call_module, 0, tag, session.id, caller, <<>>) | body]
  Port.command(port, Frames.frame(request))

  receive do
    {:snakebridge_reply, ^id, _kind, reply} -> reply
  end
end

forwarded_echo = BenchHelper.open_forwarded_echo(python, self())
forwarded = fn -> forwarded_echo.(payload) end

for _ <- 1..5_000 do
  BenchHelper.echo(echo, payload)
  forwarded.()
  frame_only.()
  call.()
end

samples =
  BenchHelper.interleaved(
    [
      floor: fn -> BenchHelper.echo(echo, payload) end,
      forwarded: forwarded,
      frame_only: frame_only,
      call: call
    ],
    40,
    1_000
  )

floor = BenchHelper.summary(samples[:floor])
ours = BenchHelper.summary(samples[:call])
worker_side = BenchHelper.summary(samples[:frame_only])
hop = BenchHelper.summary(samples[:forwarded])

codec_ns =
  SnakeBridge.eval!("""
  import time
  from snakebridge._terms import make_decoder, make_encoder
  from snakebridge._etf import Atom
  enc = make_encoder(fallback=lambda e, o: None)
  dec = make_decoder(resolve_ref=lambda f: None, make_callable=lambda f: None, read_segment=lambda f: None)
  term = ("math", "sqrt", [16], [])
  samples = []
  for _ in range(50):
      start = time.perf_counter_ns()
      for _ in range(2000):
          dec.decode(b"".join(enc.encode(term)))
      samples.append((time.perf_counter_ns() - start) / 2000)
  sorted(samples)[len(samples) // 2]
  """)

ratio = Float.round(ours.median / floor.median, 3)

# Machines of this size come in two classes, told apart by the floor (see bench/README);
# on the slow class the goal also depends on the workers' interpreter.
machine = BenchHelper.machine()

machine_class =
  cond do
    floor.median < 10_000 -> "fast class, echo ≈ 8 µs: goal ≤ 1.4"
    machine.python.optimized -> "slow class, echo ≈ 12.5 µs, optimized interpreter: goal ≤ 1.8"
    true -> "slow class, echo ≈ 12.5 µs, plain interpreter: goal ≤ 2.0"
  end

{:os_pid, echo_pid} = Port.info(echo, :os_pid)
worker_pid = SnakeBridge.eval!("import os\nos.getpid()")
cpu_echo = BenchHelper.cpu_per_run(fn -> BenchHelper.echo(echo, payload) end, echo_pid, 20_000)
cpu_call = BenchHelper.cpu_per_run(call, worker_pid, 20_000)

IO.puts("""
raw port echo, 20 B:        median #{BenchHelper.us(floor.median)} µs  p99 #{BenchHelper.us(floor.p99)} µs
SnakeBridge.call math.sqrt: median #{BenchHelper.us(ours.median)} µs  p99 #{BenchHelper.us(ours.p99)} µs
ratio call / floor:         #{ratio}   (#{machine_class}; ErlPort ≈ 2.0× on the fast class)
the echo through a forwarding process: #{BenchHelper.us(hop.median)} µs (the hop alone +#{BenchHelper.us(hop.median - floor.median)} µs)
the call's split: the frame alone #{BenchHelper.us(worker_side.median)} µs, so
  the worker, router hop and bare send +#{BenchHelper.us(worker_side.median - floor.median)} µs over the floor, the rest of the Elixir API +#{BenchHelper.us(ours.median - worker_side.median)} µs
Python codec encode+decode of the call term:     #{round(codec_ns)} ns
CPU per round trip (schedstat), BEAM / Python:
  echo  #{BenchHelper.us(cpu_echo.beam)} / #{BenchHelper.us(cpu_echo.python)} µs
  call  #{BenchHelper.us(cpu_call.beam)} / #{BenchHelper.us(cpu_call.python)} µs
""")

BenchHelper.record("latency", %{
  command: "taskset -c 0 mix run bench/latency.exs",
  machine: machine,
  floor_ns: floor,
  call_ns: ours,
  frame_only_ns: worker_side,
  forwarded_echo_ns: hop,
  ratio_median: ratio,
  machine_class: machine_class,
  codec_roundtrip_ns: round(codec_ns),
  cpu_per_echo_ns: cpu_echo,
  cpu_per_call_ns: cpu_call
})
