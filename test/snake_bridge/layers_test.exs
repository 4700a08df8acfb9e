defmodule SnakeBridge.LayersTest do
  # The layers call downwards only: no module calls back into a module that calls it.
  # Struct patterns (%Ref{}) are data, not calls, so only runtime references count.
  use ExUnit.Case, async: true

  @tag timeout: 120_000
  test "no module calls back into one that calls it" do
    {output, 0} =
      System.cmd("mix", ["xref", "graph", "--format", "cycles", "--label", "runtime"],
        env: [{"MIX_ENV", "test"}],
        stderr_to_stdout: true
      )

    assert output =~ "No cycles found", output
  end
end
