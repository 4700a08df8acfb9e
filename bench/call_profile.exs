# How many Elixir and Erlang function calls one small call makes on the calling
# process, counted by :eprof (the count, unlike time, does not depend on the machine):
#
#     mix run bench/call_profile.exs
#
# Prints the total per call and the functions called most, and records them.
Code.require_file("bench_helper.exs", __DIR__)

calls = 1_000
call = fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16]) end
for _ <- 1..1_000, do: call.()

rows = BenchHelper.eprof_counts(call, calls)
total = rows |> Enum.map(&elem(&1, 1)) |> Enum.sum()
per_call = Float.round(total / calls, 1)
top = rows |> Enum.sort_by(&(-elem(&1, 1))) |> Enum.take(40)

IO.puts("function calls per SnakeBridge.call(\"math\", \"sqrt\", [16]): #{per_call}")
for {function, count} <- top, do: IO.puts("  #{Float.round(count / calls, 2)}\t#{function}")

BenchHelper.record("call_profile", %{
  command: "mix run bench/call_profile.exs",
  machine: BenchHelper.machine(),
  calls_per_call: per_call,
  per_call_by_function: Map.new(top, fn {f, c} -> {f, Float.round(c / calls, 2)} end)
})
