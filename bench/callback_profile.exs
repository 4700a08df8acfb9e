# What one callback round trip costs each side, counted (not timed, so the count does
# not depend on the machine's load), over 1,000 callbacks of the workload of
# bench/callbacks.exs (the outer call's own share, a thousandth, included): in the
# worker's main thread the Python and C calls (sys.setprofile) and the bytecode
# instructions (sys.settrace), by function; in the calling process the Elixir and
# Erlang function calls (:eprof):
#
#     mix run bench/callback_profile.exs
#
# Prints the totals per callback and the functions that run the most instructions, and
# records them.
Code.require_file("bench_helper.exs", __DIR__)

callbacks = 1_000

loop =
  SnakeBridge.eval!("def loop(f, n):\n    for i in range(n):\n        f(i)\n    return n\nloop")

identity = fn x -> x end
run = fn -> {:ok, ^callbacks} = SnakeBridge.call(loop, "__call__", [identity, callbacks]) end
run.()

# Each hook is set by one call and counts the next one (the worker runs calls on its
# main thread, where the hooks stay set), then is read back and cleared by a third.
counting = fn hook ->
  SnakeBridge.eval!("""
  import builtins, collections, sys
  builtins._sb_counts = counts = collections.Counter()
  def hook(frame, event, arg):
      if event == "opcode":
          counts[frame.f_code.co_qualname] += 1
      elif event == "call":
          counts[("python",)] += 1
          frame.f_trace_opcodes = True
      elif event == "c_call":
          counts[("c",)] += 1
      return hook
  sys.#{hook}(hook)
  """)

  run.()

  SnakeBridge.eval!("""
  import builtins, sys
  sys.#{hook}(None)
  counts = builtins._sb_counts
  del builtins._sb_counts
  {name if isinstance(name, str) else name[0]: count for name, count in counts.items()}
  """)
end

vm_rows = BenchHelper.eprof_counts(run, 1)
vm_calls = vm_rows |> Enum.map(&elem(&1, 1)) |> Enum.sum()
vm_top = Enum.sort_by(vm_rows, &(-elem(&1, 1)))

calls = counting.("setprofile")
instructions = counting.("settrace") |> Map.drop(["python", "c"])
per = fn count -> Float.round(count / callbacks, 1) end
total = instructions |> Map.values() |> Enum.sum()
top = instructions |> Enum.sort_by(&(-elem(&1, 1))) |> Enum.take(15)

IO.puts("""
per callback round trip, worker side: #{per.(calls["python"])} Python calls, \
#{per.(calls["c"])} C calls, #{per.(total)} bytecode instructions
""")

for {name, count} <- top, do: IO.puts("  #{per.(count)}\t#{name}")

IO.puts("\nper callback round trip, calling process: #{per.(vm_calls)} function calls\n")
for {name, count} <- vm_top, do: IO.puts("  #{per.(count)}\t#{name}")

BenchHelper.record("callback_profile", %{
  command: "mix run bench/callback_profile.exs",
  machine: BenchHelper.machine(),
  python_calls_per_callback: per.(calls["python"]),
  c_calls_per_callback: per.(calls["c"]),
  instructions_per_callback: per.(total),
  instructions_by_function: Map.new(top, fn {name, count} -> {name, per.(count)} end),
  vm_calls_per_callback: per.(vm_calls),
  vm_calls_by_function: Map.new(vm_top, fn {name, count} -> {name, per.(count)} end)
})
