defmodule Mix.Tasks.Snakebridge.Gen do
  @shortdoc "Introspects Python modules and generates their Elixir wrappers"
  @moduledoc """
  Introspects the Python modules declared in `:python_wrappers`, writes their API data
  to `python_api/<module>.terms` and generates their wrappers in `lib/<prefix>/`.

      mix snakebridge.gen [MODULE...] [--check] [--force]

  With no MODULE, every declared module; a MODULE must be declared in `mix.exs`.
  A module is introspected again only when its resolved library version, its `only:`
  list or the introspector changed, unless `--force` is given.

  ## Options

    * `--check` - write nothing; introspect and generate in memory, and exit non-zero
      naming every file that would change or be deleted (for CI);
    * `--force` - introspect and generate the selected modules again even when their
      API data and wrappers look current.

  The interpreter is the one the pool would use: `config :snakebridge, python: ...`,
  then `SNAKEBRIDGE_PYTHON`, then the managed `.venv`, then `python3`. It imports the
  modules with the top-level `config :snakebridge, python_path: [...]` on its path and
  `env: [...]` set, as the workers do, so the project's own Python modules can be
  wrapped too.
  """
  use Mix.Task

  alias SnakeBridge.Gen.Project

  @switches [check: :boolean, force: :boolean]

  @impl true
  def run(argv) do
    {opts, modules} = OptionParser.parse!(argv, strict: @switches)
    project = Project.load()
    selected = selected!(project, modules)

    if opts[:check], do: check(project, selected), else: generate(project, selected, opts)
  end

  defp selected!(project, []), do: Project.modules(project)

  defp selected!(project, modules) do
    case modules -- Project.modules(project) do
      [] ->
        modules

      unknown ->
        Mix.raise(
          "#{Enum.join(unknown, ", ")} not declared; add to python_wrappers in mix.exs " <>
            "(declared: #{inspect(Project.modules(project))})"
        )
    end
  end

  defp generate(project, selected, opts) do
    with {:ok, introspected} <- Project.refresh(project, selected, force: opts[:force]),
         {:ok, %{written: written, deleted: deleted}} <-
           Project.generate(project, force: if(opts[:force], do: selected, else: [])) do
      Enum.each(Enum.reverse(introspected), &Mix.shell().info("* introspected #{&1}"))
      Enum.each(written, &Mix.shell().info("* wrote #{&1}"))
      Enum.each(deleted, &Mix.shell().info("* deleted #{&1}"))
    else
      {:error, message} -> Mix.raise(message)
    end
  end

  defp check(project, selected) do
    with {:ok, fresh} <- Project.fresh_data(project, selected),
         {:ok, changes} <- Project.changes(project, fresh) do
      case changes do
        [] ->
          Mix.shell().info("Python wrappers are up to date")

        paths ->
          Mix.raise(
            "Python wrappers are out of date; these files would change:\n" <>
              Enum.map_join(paths, "\n", &"  #{&1}") <> "\nRun mix snakebridge.gen"
          )
      end
    else
      {:error, message} -> Mix.raise(message)
    end
  end
end
