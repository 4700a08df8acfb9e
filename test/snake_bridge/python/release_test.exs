defmodule SnakeBridge.Python.ReleaseTest do
  # The release story end to end: `mix release` of a project with python_deps runs no
  # Python (every python on its PATH is a trap), the release carries the lock, and
  # `SnakeBridge.Python.Release.setup/1` builds the environment from it at run time,
  # where the release's pool then finds it.
  use ExUnit.Case, async: false
  @moduletag timeout: 600_000

  @repo Path.expand("../../..", __DIR__)
  @tool_python Path.join(@repo, ".venv/bin/python")

  @mix_exs ~S"""
  defmodule Rel.MixProject do
    use Mix.Project

    def project do
      [
        app: :rel,
        version: "0.1.0",
        deps: [{:snakebridge, path: REPO}],
        python_deps: ["fakedep"],
        python_indexes: ["index"],
        python_pypi: false
      ]
    end
  end
  """

  setup do
    dir = Path.join(System.tmp_dir!(), "snakebridge-rel-#{System.unique_integer([:positive])}")
    File.mkdir_p!(Path.join(dir, "trap"))
    File.write!(Path.join(dir, "mix.exs"), String.replace(@mix_exs, "REPO", inspect(@repo)))
    builder = Path.join(@repo, "tests/python/support/fake_index.py")
    {_, 0} = System.cmd(@tool_python, [builder, Path.join(dir, "index")])

    for name <- ~w(python python3 python3.11) do
      trap = Path.join([dir, "trap", name])
      File.write!(trap, "#!/bin/sh\ntouch #{dir}/python-was-run\nexit 99\n")
      File.chmod!(trap, 0o755)
    end

    on_exit(fn -> File.rm_rf!(dir) end)
    %{dir: dir}
  end

  defp cmd(dir, exe, args, env) do
    env = [{"SNAKEBRIDGE_TOOL_PYTHON", @tool_python}, {"SNAKEBRIDGE_ACCELERATOR", "cpu"}] ++ env
    System.cmd(exe, args, cd: dir, env: env, stderr_to_stdout: true)
  end

  test "a release builds its environment from the lock at run time", %{dir: dir} do
    {out, 0} = cmd(dir, "mix", ["snakebridge.setup"], [{"MIX_ENV", "dev"}])
    assert out =~ "matches the lock"
    File.rm_rf!(Path.join(dir, ".venv"))

    trapped = [
      {"MIX_ENV", "prod"},
      {"PATH", Path.join(dir, "trap") <> ":" <> System.get_env("PATH")},
      {"SNAKEBRIDGE_TOOL_PYTHON", Path.join([dir, "trap", "python3"])}
    ]

    {out, 0} = cmd(dir, "mix", ["release", "--overwrite"], trapped)
    assert out =~ "Release created"
    refute File.exists?(Path.join(dir, "python-was-run")), "mix release ran Python"

    release = Path.join(dir, "_build/prod/rel/rel")
    assert [lock] = Path.wildcard(Path.join(release, "lib/rel-0.1.0/priv/snakebridge/uv.lock"))
    assert File.read!(lock) == File.read!(Path.join(dir, "priv/snakebridge/uv.lock"))

    {out, 0} =
      cmd(
        release,
        Path.join(release, "bin/rel"),
        ["eval", ~s|:ok = SnakeBridge.Python.Release.setup(:rel)|],
        []
      )

    assert out =~ "profile cpu"

    check = ~S"""
    {:ok, _} = Application.ensure_all_started(:snakebridge)
    IO.puts(SnakeBridge.eval!("__import__('sys').prefix"))
    IO.puts(SnakeBridge.eval!("__import__('fakeplain').VARIANT"))
    """

    {out, 0} = cmd(release, Path.join(release, "bin/rel"), ["eval", check], [])
    assert out =~ "#{release}/.venv\n2.0\n"
  end
end
