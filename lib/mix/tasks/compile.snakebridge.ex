defmodule Mix.Tasks.Compile.Snakebridge do
  @shortdoc "Generates Elixir modules for the Python libraries in :python_wrappers"
  @moduledoc """
  A Mix compiler that turns the Python modules a project declares into Elixir modules
  (see docs/WRAPPERS.md). Declare it before Elixir's compilers, in `mix.exs`:

      def project do
        [
          compilers: [:snakebridge] ++ Mix.compilers(),
          python_wrappers: ["numpy", "numpy.linalg", {"collections", only: ["Counter"]}]
        ]
      end

  It reads the committed API data in `python_api/`, generates `lib/<prefix>/...`, and
  Elixir's compiler compiles those. The up-to-date check hashes the inputs and never
  starts Python; when nothing changed it prints nothing and touches no file. Python
  runs only for a declared module that has no API data yet. Refresh the data after
  upgrading a library with `mix snakebridge.gen`.
  """
  use Mix.Task.Compiler

  alias SnakeBridge.Gen.Project

  @recursive true

  @impl true
  def run(_args) do
    project = Project.load()

    cond do
      project.wrappers == [] and not File.exists?(project.manifest) -> {:noop, []}
      Project.up_to_date?(project) -> {:noop, []}
      true -> generate(project)
    end
  end

  defp generate(project) do
    with {:ok, introspected} <-
           Project.refresh(project, Project.modules(project), missing_only: true),
         {:ok, %{written: written, deleted: deleted}} <- Project.generate(project) do
      report(introspected, written, deleted)
      {:ok, []}
    else
      {:error, message} ->
        diagnostic = %Mix.Task.Compiler.Diagnostic{
          compiler_name: "snakebridge",
          file: Path.join(project.root, "mix.exs"),
          message: message,
          position: nil,
          severity: :error
        }

        Mix.shell().error(message)
        {:error, [diagnostic]}
    end
  end

  defp report(introspected, written, deleted) do
    Enum.each(introspected, &Mix.shell().info("Introspected Python API into #{&1}"))

    if written != [] or deleted != [] do
      Mix.shell().info(
        "Generated Python wrappers (#{length(written)} written, #{length(deleted)} deleted)"
      )
    end
  end

  @impl true
  def manifests, do: [Project.load().manifest]

  @impl true
  def clean do
    # Generated sources stay: they are rebuilt from committed data, and a project may
    # commit them. Only the manifest goes, so the next compile checks them again.
    File.rm(Project.load().manifest)
    :ok
  end
end
