defmodule SnakeBridge.Gen.Writer do
  @moduledoc false
  # Race-free file output for generators that may run concurrently on one project
  # (several `mix compile`s, editors, CI steps) or be killed half-way:
  #
  #   * identical content is never rewritten, so the file keeps its mtime and Mix
  #     recompiles nothing;
  #   * new content goes to a temp file in the same directory, opened exclusively under
  #     a name no other writer can draw (OS pid, host, node and random bytes), then is
  #     renamed over the target: readers see the old file or the new one, never half;
  #   * the advisory lock records its owner (OS pid, the process's start time, host) and
  #     is broken when that owner is dead, so a `kill -9` never blocks later runs;
  #   * temp files left by dead writers are swept under the lock.

  @temp_suffix ".sbtmp"
  @poll_ms 25

  @doc "Writes `content` to `path` unless it already holds exactly that."
  @spec write(Path.t(), iodata) :: :unchanged | :written
  def write(path, content) do
    content = IO.iodata_to_binary(content)

    case File.read(path) do
      {:ok, ^content} ->
        :unchanged

      _ ->
        File.mkdir_p!(Path.dirname(path))
        temp = temp_path(path)
        exclusive_write!(temp, content)

        case File.rename(temp, path) do
          :ok ->
            :written

          {:error, reason} ->
            File.rm(temp)
            raise File.Error, reason: reason, action: "rename temp file onto", path: path
        end
    end
  end

  defp exclusive_write!(path, content) do
    case File.open(path, [:write, :exclusive, :binary, :raw]) do
      {:ok, io} ->
        try do
          :ok = :file.write(io, content)
        after
          File.close(io)
        end

      {:error, reason} ->
        raise File.Error, reason: reason, action: "create temp file", path: path
    end
  end

  defp temp_path(path) do
    random = Base.encode16(:rand.bytes(8), case: :lower)
    dir = Path.dirname(path)
    Path.join(dir, ".#{Path.basename(path)}.#{owner_tag()}-#{random}#{@temp_suffix}")
  end

  defp owner_tag, do: "#{System.pid()}-#{host()}-#{node() |> Atom.to_string() |> safe()}"

  defp safe(text), do: String.replace(text, ~r/[^A-Za-z0-9_.@]/, "_")

  defp host do
    {:ok, name} = :inet.gethostname()
    safe(to_string(name))
  end

  @doc "Removes temp files in `dir` left behind by writers on this host that are dead."
  @spec sweep(Path.t()) :: :ok
  def sweep(dir) do
    host = host()

    for file <- Path.wildcard(Path.join(dir, ".*" <> @temp_suffix), match_dot: true),
        [_, pid, ^host] <- [Regex.run(~r/\.(\d+)-([^-]+)-[^-]+-[0-9a-f]+\.sbtmp$/, file)],
        not alive?(pid, nil) do
      File.rm(file)
    end

    :ok
  end

  @doc """
  Runs `fun` holding the advisory lock at `path`, waiting up to `timeout` ms for it.
  A lock whose owner is dead is broken; one held by a live owner past the timeout
  raises, naming the owner.
  """
  @spec with_lock(Path.t(), timeout, (() -> result)) :: result when result: term
  def with_lock(path, timeout \\ 120_000, fun) do
    File.mkdir_p!(Path.dirname(path))
    acquire(path, System.monotonic_time(:millisecond) + timeout)

    try do
      fun.()
    after
      File.rm(path)
    end
  end

  defp acquire(path, deadline) do
    me = "#{System.pid()} #{start_time(System.pid())} #{host()} #{node()}\n"
    temp = temp_path(path)
    exclusive_write!(temp, me)

    # A hard link is created whole or not at all, so the lock never exists without its
    # owner line, and it fails if the lock exists.
    result = File.ln(temp, path)
    File.rm(temp)

    case result do
      :ok -> :ok
      {:error, :eexist} -> contend(path, deadline)
      {:error, reason} -> raise File.Error, reason: reason, action: "create lock", path: path
    end
  end

  defp contend(path, deadline) do
    case File.read(path) do
      {:ok, owner} ->
        cond do
          dead_owner?(owner) ->
            break(path, owner)

          System.monotonic_time(:millisecond) > deadline ->
            raise "#{path} is held by a live process (#{String.trim(owner)}); " <>
                    "if that is wrong, delete the file"

          true ->
            Process.sleep(@poll_ms)
        end

      {:error, _gone} ->
        :ok
    end

    acquire(path, deadline)
  end

  # Moving the lock aside is atomic, so of several breakers one takes it. If what it
  # took turns out not to be the dead owner's lock (someone broke and re-took it in
  # between), it puts it back.
  defp break(path, stale) do
    aside = temp_path(path)

    with :ok <- File.rename(path, aside) do
      case File.read(aside) do
        {:ok, ^stale} -> File.rm(aside)
        # Someone else's lock by now: put it back, and remove ours only if that worked.
        _ -> with :ok <- File.ln(aside, path), do: File.rm(aside)
      end
    end
  end

  defp dead_owner?(owner) do
    case String.split(owner) do
      [pid, start, host | _] -> host == host() and not alive?(pid, start)
      _ -> false
    end
  end

  # A pid is alive if /proc says so and, when known, it is still the same process
  # (its start time guards against the pid being reused).
  # Without /proc (macOS, BSD), `kill -0` answers.
  defp alive?(pid, start) do
    cond do
      not File.dir?("/proc/self") ->
        match?({_, 0}, System.cmd("kill", ["-0", pid], stderr_to_stdout: true))

      File.exists?("/proc/#{pid}/stat") ->
        start in [nil, "?"] or start_time(pid) == start

      true ->
        false
    end
  end

  defp start_time(pid) do
    with {:ok, stat} <- File.read("/proc/#{pid}/stat"),
         [_, after_name] <- String.split(stat, ") ", parts: 2),
         fields when length(fields) > 19 <- String.split(after_name) do
      Enum.at(fields, 19)
    else
      _ -> "?"
    end
  end
end
