defmodule SnakeBridge.OrphanTest do
  # No Python process outlives the VM or its worker, even when the VM is killed with
  # SIGKILL and gets no chance to clean up. The VM under test is a separate `elixir`
  # process running SnakeBridge from this build.
  use ExUnit.Case, async: true
  @moduletag :capture_log

  import SnakeBridge.Test.Lifecycle

  # Started in the child VM: report every OS process SnakeBridge started there (the
  # nannies, the workers, and a child a worker spawned), then wait to be killed.
  @child_script ~S"""
  {:ok, _} = Application.ensure_all_started(:snakebridge)
  1 = SnakeBridge.eval!("1")

  workers =
    Enum.reduce_while(1..500, nil, fn _, _ ->
      stats = SnakeBridge.stats()

      if Enum.all?(stats.per_worker, &(&1.status == :ready)),
        do: {:halt, Enum.map(stats.per_worker, & &1.os_pid)},
        else: (Process.sleep(20); {:cont, nil})
    end) || raise("workers not ready after 10 s: #{inspect(SnakeBridge.stats())}")

  nannies =
    for pid <- workers do
      stat = File.read!("/proc/#{pid}/stat")
      [_, after_name] = String.split(stat, ") ", parts: 2)
      after_name |> String.split(" ") |> Enum.at(1)
    end

  sleeper = SnakeBridge.eval!("import subprocess\nsubprocess.Popen(['sleep', '1000']).pid")
  IO.puts("PIDS #{System.pid()} " <> Enum.join(workers ++ nannies ++ [sleeper], " "))
  Process.sleep(:infinity)
  """

  @tag :tmp_dir
  test "kill -9 of the VM ends its nannies, workers and their children", %{tmp_dir: dir} do
    script = Path.join(dir, "child.exs")
    File.write!(script, @child_script)
    port = child_vm(script)

    [beam | python] = await_pids(port, "")
    assert length(python) == 2 * System.schedulers_online() + 1
    assert Enum.all?(python, &os_alive?/1)

    {_, 0} = System.cmd("kill", ["-9", beam])
    assert_receive {^port, {:exit_status, _}}, 5_000

    eventually("every Python process's exit", 3_000, fn ->
      not Enum.any?(python, &os_alive?/1)
    end)
  end

  # Started in the child VM: big arguments through /dev/shm from several processes,
  # non-stop, until the VM is killed.
  @transfer_script ~S"""
  Application.put_env(:snakebridge, :shm_threshold, 65_536)
  {:ok, _} = Application.ensure_all_started(:snakebridge)
  dir = SnakeBridge.eval!("import os
  os.environ['SNAKEBRIDGE_SEGMENT_DIR']")
  data = SnakeBridge.bytes(:binary.copy("t", 4_000_000))

  for _ <- 1..4 do
    spawn(fn ->
      Stream.repeatedly(fn -> SnakeBridge.call("builtins", "len", [data]) end) |> Stream.run()
    end)
  end

  Process.sleep(300)
  IO.puts("PIDS #{System.pid()} #{dir}")
  Process.sleep(:infinity)
  """

  @tag :tmp_dir
  test "kill -9 of the VM mid-transfer leaves no segment behind", %{tmp_dir: dir} do
    script = Path.join(dir, "transfer.exs")
    File.write!(script, @transfer_script)
    port = child_vm(script)
    [beam, worker_dir] = await_pids(port, "")

    {_, 0} = System.cmd("kill", ["-9", beam])
    assert_receive {^port, {:exit_status, _}}, 5_000

    # Measured: what the killed VM and its workers left in /dev/shm, once its nannies
    # have noticed (the goal, and the check, is nothing).
    left =
      eventually("the killed VM's segments removed", 5_000, fn ->
        left = Path.wildcard("/dev/shm/snakebridge-beam-#{beam}-*") ++ Path.wildcard(worker_dir)
        if left == [], do: {:ok, left}
      end)

    assert left == {:ok, []}
  end

  test "a worker's children end with it" do
    start_supervised!({SnakeBridge.Pool, name: :orphan_children, size: 1})
    await_pool(:orphan_children)
    code = "import subprocess\nsubprocess.Popen(['sleep', '1000']).pid"
    sleeper = SnakeBridge.eval!(code, %{}, pool: :orphan_children)
    assert os_alive?(sleeper)

    assert {:error, %SnakeBridge.WorkerCrashError{status: 9}} =
             SnakeBridge.eval("import os\nos._exit(9)", %{}, pool: :orphan_children)

    eventually("the child's exit", 2_000, fn -> not os_alive?(sleeper) end)
  end

  test "stopping a pool ends its Python processes" do
    {:ok, sup} = SnakeBridge.Pool.start_link(name: :orphan_stop, size: 2)
    %{per_worker: workers} = await_pool(:orphan_stop)
    code = "import subprocess\nsubprocess.Popen(['sleep', '1000']).pid"
    sleeper = SnakeBridge.eval!(code, %{}, pool: :orphan_stop)
    Process.unlink(sup)
    Supervisor.stop(sup)
    python = [sleeper | Enum.map(workers, & &1.os_pid)]

    eventually("every Python process's exit", 2_000, fn -> not Enum.any?(python, &os_alive?/1) end)
  end

  defp child_vm(script) do
    ebin = Path.join(Mix.Project.build_path(), "lib/snakebridge/ebin")

    Port.open({:spawn_executable, System.find_executable("elixir")}, [
      :binary,
      :exit_status,
      :stderr_to_stdout,
      {:line, 4096},
      {:args, ["-pa", ebin, script]},
      {:cd, File.cwd!()}
    ])
  end

  defp await_pids(port, output) do
    receive do
      {^port, {:data, {:eol, "PIDS " <> pids}}} ->
        String.split(pids, " ")

      {^port, {:data, {_, line}}} ->
        await_pids(port, output <> line <> "\n")

      {^port, {:exit_status, status}} ->
        flunk("the child VM exited with status #{status}:\n#{output}")
    after
      20_000 -> flunk("the child VM reported no pids within 20 s:\n#{output}")
    end
  end
end
