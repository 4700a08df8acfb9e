# Small-call latency against the raw port echo floor, in one run, pinned to one CPU:
#
#     taskset -c 0 mix run bench/latency.exs
#
# 1. floor: a 20-byte frame echoed by a minimal Python loop on fds 3/4;
# 2. SnakeBridge.call("math", "sqrt", [16]);
# 3. the Python codec's encode+decode of that call term (measured in Python).
Code.require_file("bench_helper.exs", __DIR__)

python = BenchHelper.python()
echo = BenchHelper.open_echo(python)
payload = :binary.copy("x", 20)
call = fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16]) end

for _ <- 1..5_000 do
  BenchHelper.echo(echo, payload)
  call.()
end

samples =
  BenchHelper.interleaved(
    [floor: fn -> BenchHelper.echo(echo, payload) end, call: call],
    40,
    1_000
  )

floor = BenchHelper.summary(samples[:floor])
ours = BenchHelper.summary(samples[:call])

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

IO.puts("""
raw port echo, 20 B:        median #{BenchHelper.us(floor.median)} µs  p99 #{BenchHelper.us(floor.p99)} µs
SnakeBridge.call math.sqrt: median #{BenchHelper.us(ours.median)} µs  p99 #{BenchHelper.us(ours.p99)} µs
ratio call / floor:         #{ratio}   (goal ≤ 1.5; ErlPort ≈ 2.0)
Python codec encode+decode of the call term:     #{round(codec_ns)} ns
""")

BenchHelper.record("latency", %{
  command: "taskset -c 0 mix run bench/latency.exs",
  machine: BenchHelper.machine(),
  floor_ns: floor,
  call_ns: ours,
  ratio_median: ratio,
  codec_roundtrip_ns: round(codec_ns)
})
