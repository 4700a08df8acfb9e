defmodule SnakeBridge.MixProject do
  use Mix.Project

  def project do
    [
      app: :snakebridge,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      # Tests implement SnakeBridge.Encoder for their own structs.
      consolidate_protocols: Mix.env() != :test,
      deps: [],
      elixirc_paths: elixirc_paths(Mix.env()),
      docs: [main: "SnakeBridge"]
    ]
  end

  def application do
    [
      mod: {SnakeBridge.Application, []},
      extra_applications: [:logger, :crypto]
    ]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
