defmodule SnakeBridge.Python.MixTasksTest do
  # End to end, offline: a brand-new Mix project depending on this repository by path
  # (and on a path dependency with python_deps of its own) runs the mix tasks against a
  # local index of dummy wheels built for the test. The tasks use the repository's own
  # .venv as the tool environment (it holds the pinned uv and packaging).
  use ExUnit.Case, async: false
  @moduletag timeout: 600_000

  @repo Path.expand("../../..", __DIR__)
  @tool_python Path.join(@repo, ".venv/bin/python")

  @app_mix ~S"""
  defmodule App.MixProject do
    use Mix.Project

    def project do
      [
        app: :app,
        version: "0.1.0",
        deps: [{:snakebridge, path: REPO}, {:helper, path: "helper"}],
        python_deps: ["faketorch==1.0", "fakejax", "fakeort"] ++ extra(),
        python_indexes: ["index"],
        python_pypi: false
      ]
    end

    defp extra, do: if(System.get_env("CONFLICT"), do: ["fakeplain==2.0"], else: [])
  end
  """

  @helper_mix ~S"""
  defmodule Helper.MixProject do
    use Mix.Project

    def project do
      conflict = if System.get_env("CONFLICT"), do: ["fakeplain==1.0"], else: []
      [app: :helper, version: "0.1.0", python_deps: ["fakedep>=1"] ++ conflict]
    end
  end
  """

  setup_all do
    dir = Path.join(System.tmp_dir!(), "snakebridge-mix-#{System.unique_integer([:positive])}")
    File.mkdir_p!(Path.join(dir, "helper"))
    File.write!(Path.join(dir, "mix.exs"), String.replace(@app_mix, "REPO", inspect(@repo)))
    File.write!(Path.join(dir, "helper/mix.exs"), @helper_mix)

    File.write!(
      Path.join(dir, "snakebridge_variants.toml"),
      ~s([fakeort]\ncpu = "fakeort"\ncuda12 = "fakeort-gpu"\n)
    )

    builder = Path.join(@repo, "tests/python/support/fake_index.py")
    {_, 0} = System.cmd(@tool_python, [builder, Path.join(dir, "index")])
    on_exit(fn -> File.rm_rf!(dir) end)
    %{dir: dir}
  end

  defp mix(dir, args, env \\ []) do
    env =
      [
        {"MIX_ENV", "dev"},
        {"SNAKEBRIDGE_TOOL_PYTHON", @tool_python},
        {"SNAKEBRIDGE_HARDWARE_ROOT", Path.join(dir, "no-hardware")},
        {"SNAKEBRIDGE_ACCELERATOR", nil}
      ] ++ env

    System.cmd("mix", args, cd: dir, env: env, stderr_to_stdout: true)
  end

  defp installed(dir) do
    Path.join(dir, ".venv/lib/python*/site-packages/*.dist-info")
    |> Path.wildcard()
    |> Enum.map(&Path.basename(&1, ".dist-info"))
    |> Enum.sort()
  end

  # One test, in order, because each step builds on the environment the previous made;
  # compiling the new project once is most of the cost.
  test "setup, no-op, check, plan, drift, doctor and conflicts", %{dir: dir} do
    {out, 0} = mix(dir, ["snakebridge.setup"])
    assert out =~ "locked #{dir}/priv/snakebridge/uv.lock"
    assert out =~ "hardware: cpu -> profile cpu"

    assert installed(dir) ==
             ~w(fakedep-1.0 fakejax-1.0 fakeort-1.0 fakeplain-2.0 faketorch-1.0+cpu)

    # Unchanged: a no-op that starts no Python (the tool interpreter is now bogus).
    {out, 0} = mix(dir, ["snakebridge.setup"], [{"SNAKEBRIDGE_TOOL_PYTHON", "/nonexistent"}])
    assert out =~ "is up to date (nothing changed)"

    {out, 0} = mix(dir, ["snakebridge.setup", "--check"])
    assert out =~ "matches the lock"

    {out, 0} = mix(dir, ["snakebridge.plan", "--json"], [{"SNAKEBRIDGE_ACCELERATOR", "cu126"}])
    assert out =~ ~s("variant": "faketorch==1.0+cu126")
    assert out =~ ~s("profile": "cuda12.6")

    # Drift: a package removed behind setup's back.
    site = Path.wildcard(Path.join(dir, ".venv/lib/python*/site-packages")) |> hd()
    Enum.each(Path.wildcard(Path.join(site, "fakeplain*")), &File.rm_rf!/1)

    {out, status} = mix(dir, ["snakebridge.setup", "--check"])
    assert status != 0
    assert out =~ "- fakeplain==2.0   locked, not installed"
    assert out =~ "fix: run `mix snakebridge.setup`"

    {out, status} = mix(dir, ["snakebridge.doctor"])
    assert status != 0
    assert out =~ "FAIL installed: - fakeplain==2.0"

    # The named fix works: setup notices the removal without being forced.
    {_, 0} = mix(dir, ["snakebridge.setup"])
    assert "fakeplain-2.0" in installed(dir)

    {out, 0} = mix(dir, ["snakebridge.doctor"])
    refute out =~ "FAIL"
    assert out =~ "ok   imports: 4 imported"
    assert out =~ "ok   worker: started, one call answered (#{dir}/.venv)"

    {out, status} = mix(dir, ["snakebridge.setup"], [{"CONFLICT", "1"}])
    assert status != 0
    assert out =~ "app asks for fakeplain==2.0; helper asks for fakeplain==1.0"
  end
end
