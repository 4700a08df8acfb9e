defmodule Mix.Tasks.Snakebridge.Plan do
  @shortdoc "Shows the detected hardware and each Python package's chosen variant"
  @moduledoc """
  Prints the detected hardware with its evidence, the hardware profiles the declared
  packages make, this machine's profile, and for each package the variant chosen and
  why. Installs nothing.

      mix snakebridge.plan
      mix snakebridge.plan --json     # the same for tools

  `SNAKEBRIDGE_ACCELERATOR=cuda12.4 mix snakebridge.plan` shows what another machine
  would get.
  """
  use Mix.Task

  @impl true
  def run(argv) do
    {opts, _} = OptionParser.parse!(argv, strict: [json: :boolean])
    Mix.Task.run("loadconfig")
    args = if opts[:json], do: ["--json"], else: []
    status = SnakeBridge.Python.CLI.run("plan", args)
    if status != 0, do: exit({:shutdown, status})
  end
end
