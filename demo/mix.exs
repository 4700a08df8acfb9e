defmodule Demo.MixProject do
  use Mix.Project

  # The demo is a user project: it depends on SnakeBridge by path, declares the Python
  # packages it needs (python_deps: `mix snakebridge.setup` builds them, locked in
  # priv/snakebridge/, into .venv) and the Python modules it wants as generated Elixir
  # modules (Py.Json, Py.Collections.Counter, Py.Numpy, ...). Their API data is
  # committed in python_api/; the :snakebridge compiler generates lib/py/ from it.
  def project do
    [
      app: :demo,
      version: "0.1.0",
      elixir: "~> 1.14",
      deps: [{:snakebridge, path: ".."}],
      compilers: [:snakebridge] ++ Mix.compilers(),
      python_deps: ["numpy>=1.26", "pandas>=2.1", "sympy>=1.12"],
      python_wrappers: [
        "json",
        "itertools",
        {"collections", only: ["Counter"]},
        {"numpy", only: ["arange", "mean", "ndarray"]},
        {"sympy", only: ["Symbol", "diff", "expand", "integrate"]}
      ]
    ]
  end
end
