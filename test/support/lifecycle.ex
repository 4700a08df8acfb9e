defmodule SnakeBridge.Test.Lifecycle do
  @moduledoc false
  # Helpers for the lifecycle tests: they run against real Python workers, whose
  # clean-up happens asynchronously, so assertions about it poll until a deadline.

  import ExUnit.Assertions

  @doc """
  Calls `fun` every 20 ms until it returns a truthy value, which it returns; flunks
  with `what` if that does not happen within `within` ms.
  """
  def eventually(what, within, fun) do
    deadline = System.monotonic_time(:millisecond) + within
    poll(what, within, deadline, fun)
  end

  defp poll(what, within, deadline, fun) do
    case fun.() do
      result when result not in [nil, false] ->
        result

      _ ->
        if System.monotonic_time(:millisecond) > deadline do
          flunk("#{what} did not happen within #{within} ms")
        else
          Process.sleep(20)
          poll(what, within, deadline, fun)
        end
    end
  end

  @doc "Live refs in `pool`, summed over its workers."
  def live_refs(pool), do: SnakeBridge.stats(pool).refs

  @doc "The OS pid of the worker that holds `ref`."
  def os_pid(ref), do: SnakeBridge.eval!("import os\nos.getpid()", %{"_" => ref})

  @doc """
  A session owned by the calling process and bound to worker `index` of `pool`, for
  tests that need refs on a given worker.
  """
  def session_on(pool, index) do
    {:ok, session} = SnakeBridge.open_session(pool: pool)
    %{session | worker: index}
  end

  @doc "Whether the OS process `os_pid` is running (a zombie, dead but not reaped, is not)."
  def os_alive?(os_pid) do
    case File.read("/proc/#{os_pid}/stat") do
      # The state follows the command name, which is in parentheses.
      {:ok, stat} -> not String.match?(stat, ~r/\) [ZX] /)
      {:error, _} -> false
    end
  end

  @doc "Blocks until every worker of `pool` is ready; returns the pool's stats."
  def await_pool(pool, within \\ 10_000) do
    eventually("pool #{inspect(pool)} becoming ready", within, fn ->
      stats = SnakeBridge.stats(pool)
      if Enum.all?(stats.per_worker, &(&1.status == :ready)), do: stats
    end)
  end

  @doc "Writes an executable script `name` with `text` into `dir`; returns its path."
  def script!(dir, name, text) do
    path = Path.join(dir, name)
    File.write!(path, text)
    File.chmod!(path, 0o755)
    path
  end

  @doc "A fresh path in the system's temp dir (not created; removed after the test)."
  def tmp_path(name) do
    unique = Base.url_encode64(:rand.bytes(9))
    path = Path.join(System.tmp_dir!(), "snakebridge-#{name}-#{unique}")
    ExUnit.Callbacks.on_exit(fn -> File.rm_rf(path) end)
    path
  end
end
