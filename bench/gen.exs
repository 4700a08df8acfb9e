# Wrapper generation, end to end, in fresh projects that depend on SnakeBridge by path
# (unpinned: generation and compilation use both cores):
#
#     mix run --no-start bench/gen.exs
#
# For numpy (numpy, numpy.linalg, numpy.fft, numpy.random) and for pandas, each in its
# own project: the wall time of a first `mix snakebridge.gen` (introspection with
# Python, API data, Elixir sources; the dependency is compiled beforehand), of a no-op
# rerun of it and of a no-op `mix compile` (medians of five), of compiling the
# generated sources, and the size of their .beam files. The floor is `mix help compile`
# in the same project: starting Mix itself.
Code.require_file("bench_helper.exs", __DIR__)

repo = Path.expand("..", __DIR__)
python = BenchHelper.python()
env = [{"MIX_ENV", "dev"}, {"SNAKEBRIDGE_PYTHON", python}, {"LC_ALL", "C.UTF-8"}]

project = fn name, wrappers ->
  dir = Path.join([__DIR__, "tmp", "gen_#{name}_#{System.pid()}"])
  File.rm_rf!(dir)
  File.mkdir_p!(Path.join(dir, "lib"))

  File.write!(Path.join(dir, "mix.exs"), """
  defmodule Bench#{Macro.camelize(name)}.MixProject do
    use Mix.Project
    def project do
      [app: :bench_#{name}, version: "0.1.0", deps: [{:snakebridge, path: #{inspect(repo)}}],
       compilers: [:snakebridge] ++ Mix.compilers(), python_wrappers: #{inspect(wrappers)}]
    end
  end
  """)

  dir
end

mix = fn dir, args ->
  start = System.monotonic_time(:millisecond)
  {output, status} = System.cmd("mix", args, cd: dir, env: env, stderr_to_stdout: true)
  if status != 0, do: raise("mix #{Enum.join(args, " ")} failed:\n#{output}")
  (System.monotonic_time(:millisecond) - start) / 1000
end

measure = fn name, wrappers ->
  dir = project.(name, wrappers)
  mix.(dir, ["deps.compile"])
  first = mix.(dir, ["snakebridge.gen"])
  compile = mix.(dir, ["compile"])

  # No-op runs are short and the machine is noisy: five of each, interleaved with the
  # floor, medians reported.
  median = fn list -> list |> Enum.sort() |> Enum.at(div(length(list), 2)) end

  runs =
    for _ <- 1..5 do
      {mix.(dir, ["help", "compile"]), mix.(dir, ["snakebridge.gen"]), mix.(dir, ["compile"])}
    end

  floor = median.(Enum.map(runs, &elem(&1, 0)))
  rerun = median.(Enum.map(runs, &elem(&1, 1)))
  noop_compile = median.(Enum.map(runs, &elem(&1, 2)))
  beams = Path.wildcard(Path.join(dir, "_build/dev/lib/bench_#{name}/ebin/Elixir.Py.*.beam"))
  sources = Path.wildcard(Path.join(dir, "lib/py/**/*.ex"))
  data = Path.wildcard(Path.join(dir, "python_api/*.terms"))
  size = fn files -> files |> Enum.map(&File.stat!(&1).size) |> Enum.sum() end

  result = %{
    mix_startup_s: floor,
    first_gen_s: first,
    noop_gen_s: rerun,
    compile_generated_s: compile,
    noop_compile_s: noop_compile,
    noop_gen_above_mix_startup_s: Float.round(rerun - floor, 3),
    noop_compile_above_mix_startup_s: Float.round(noop_compile - floor, 3),
    modules: length(beams),
    beam_bytes: size.(beams),
    source_bytes: size.(sources),
    api_data_bytes: size.(data)
  }

  File.rm_rf!(dir)
  result
end

numpy = measure.("numpy", ~w(numpy numpy.linalg numpy.fft numpy.random))
pandas = measure.("pandas", ~w(pandas))

for {name, r} <- [numpy: numpy, pandas: pandas] do
  IO.puts("""
  #{name}: first gen #{r.first_gen_s} s (goal < 30), no-op gen #{r.noop_gen_s} s \
  (#{r.noop_gen_above_mix_startup_s} s above mix startup; goal < 1), no-op compile \
  #{r.noop_compile_s} s (#{r.noop_compile_above_mix_startup_s} s above), mix startup #{r.mix_startup_s} s
    compile of the generated code #{r.compile_generated_s} s; #{r.modules} modules, \
  .beam #{div(r.beam_bytes, 1024)} KiB, sources #{div(r.source_bytes, 1024)} KiB, \
  API data #{div(r.api_data_bytes, 1024)} KiB
  """)
end

BenchHelper.record("gen", %{
  command: "mix run --no-start bench/gen.exs",
  machine: BenchHelper.machine(),
  numpy: numpy,
  pandas: pandas,
  note: "wall times of whole mix commands, measured while three other agents shared the 2 vCPUs"
})
