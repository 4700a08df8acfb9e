defmodule SnakeBridge.Test.UserProject do
  @moduledoc false
  # A brand-new Mix project in a temp directory that depends on this repository by
  # path and declares `python_wrappers`, driven through real `mix` commands.

  @repo Path.expand("../..", __DIR__)

  @doc """
  Creates the project, with `files` (`{path relative to the project, content}`) in it
  too; returns its directory.
  """
  @spec create(String.t(), [term], [{Path.t(), String.t()}]) :: Path.t()
  def create(name, wrappers, files \\ []) do
    random = Base.encode16(:rand.bytes(6), case: :lower)
    dir = Path.join(System.tmp_dir!(), "snakebridge_#{name}_#{System.pid()}_#{random}")
    File.mkdir_p!(Path.join(dir, "lib"))

    for {path, content} <- files do
      File.mkdir_p!(Path.dirname(Path.join(dir, path)))
      File.write!(Path.join(dir, path), content)
    end

    File.write!(Path.join(dir, "mix.exs"), """
    defmodule UserApp.MixProject do
      use Mix.Project

      def project do
        [
          app: :user_app,
          version: "0.1.0",
          deps: [{:snakebridge, path: #{inspect(@repo)}}],
          compilers: [:snakebridge] ++ Mix.compilers(),
          python_wrappers: #{inspect(wrappers, limit: :infinity)}
        ]
      end
    end
    """)

    dir
  end

  @doc "Runs `mix args` in `dir`; returns {output, exit status}."
  @spec mix(Path.t(), [String.t()], [{String.t(), String.t()}]) ::
          {String.t(), non_neg_integer}
  def mix(dir, args, extra_env \\ []) do
    System.cmd("mix", args, cd: dir, env: env() ++ extra_env, stderr_to_stdout: true)
  end

  @doc "The environment for child `mix` commands: dev env, this repo's venv Python."
  @spec env() :: [{String.t(), String.t()}]
  def env do
    [
      {"MIX_ENV", "dev"},
      {"SNAKEBRIDGE_PYTHON", Path.join(@repo, ".venv/bin/python")},
      {"LC_ALL", "C.UTF-8"}
    ]
  end

  @doc "A checksum of everything generated: API data and wrapper sources."
  @spec checksum(Path.t()) :: binary
  def checksum(dir) do
    files = Path.wildcard(Path.join(dir, "{python_api,lib}/**/*"), match_dot: true)

    files
    |> Enum.filter(&File.regular?/1)
    |> Enum.sort()
    |> Enum.map(&{Path.relative_to(&1, dir), File.read!(&1)})
    |> :erlang.term_to_binary()
    |> :erlang.md5()
  end

  @doc "Temp and lock files anywhere in the project (there should be none)."
  @spec leftovers(Path.t()) :: [Path.t()]
  def leftovers(dir) do
    Path.wildcard(Path.join(dir, "{python_api,lib,_build}/**/*.{sbtmp,lock}"), match_dot: true) ++
      Path.wildcard(Path.join(dir, "_build/*.{sbtmp,lock}"), match_dot: true)
  end
end
