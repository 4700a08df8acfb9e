# How long a pool takes to start: from SnakeBridge.Pool.start_link to every worker
# ready (their hello read, control sockets connected), for pools of 1 and 2 workers.
# The tests only check that workers start concurrently; the time is measured here.
#
#     mix run bench/startup.exs
Code.require_file("bench_helper.exs", __DIR__)

runs = 7

defmodule StartupBench do
  def wait({:ready, _, _, _, _} = entry, _name, _index), do: entry

  def wait(_entry, name, index) do
    Process.sleep(1)
    wait(SnakeBridge.Pool.Table.entry(name, index), name, index)
  end
end

measure = fn size ->
  for n <- 1..runs do
    name = :"bench_startup_#{size}_#{n}"
    started = System.monotonic_time(:nanosecond)
    {:ok, sup} = SnakeBridge.Pool.start_link(name: name, size: size)
    for index <- 0..(size - 1), do: StartupBench.wait(:absent, name, index)
    elapsed = System.monotonic_time(:nanosecond) - started
    Process.unlink(sup)
    Supervisor.stop(sup)
    elapsed
  end
end

for size <- [1, 2] do
  stats = BenchHelper.summary(measure.(size))
  IO.puts("pool of #{size}: median #{div(stats.median, 1_000_000)} ms over #{runs} starts")
end
