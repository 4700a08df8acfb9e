defmodule SnakeBridge.Shm do
  @moduledoc false
  # Segments: binaries of at least Wire.blob_min() bytes never go inside the ETF term.
  # In their place the term holds %SnakeBridge.Shm{path, offset, size}:
  #
  #   * path: nil — an inline blob: the bytes follow the term in the same frame, at
  #     `offset` in the frame's blob area. term_to_binary/binary_to_term never copy them:
  #     the port writes them from the binary itself (iodata), and replies hand them out
  #     as sub-binaries of the port's binary.
  #   * path: "/dev/shm/…" — at least the shared-memory threshold: the bytes are in
  #     that tmpfs file and only its name crosses the pipe. A file costs one copy to
  #     write and one to read, against the pipe's copies into and out of the kernel in
  #     64 KiB steps with a context switch each.
  #
  # Who deletes files: the reader, as soon as it has opened one. Files the BEAM wrote
  # for a worker that died first are deleted by the caller when its call ends; files a
  # worker wrote for a caller that had given up live in the worker's own directory,
  # which the nanny removes when the worker exits.
  #
  # The shared-memory threshold defaults to the crossover measured by bench/bytes.exs
  # and is set with `config :snakebridge, shm_threshold: bytes | :infinity`.

  alias SnakeBridge.Shm.Files
  alias SnakeBridge.Wire

  @enforce_keys [:path, :size]
  defstruct [:path, :size, offset: 0]

  @root Files.root()
  # 256 MiB: where bench/bytes.exs finds the two paths even (the worker widens its
  # pipes to 1 MiB, and below this the pipe is faster).
  @default_threshold 268_435_456
  @blob_min Wire.blob_min()
  @has_blobs Wire.has_blobs()
  @private_mode 0o700
  @file_mode 0o600
  @group_or_other 0o077

  @doc false
  def threshold do
    case :persistent_term.get({__MODULE__, :threshold}, nil) do
      nil ->
        value = compute_threshold()
        :persistent_term.put({__MODULE__, :threshold}, value)
        value

      value ->
        value
    end
  end

  defp compute_threshold do
    case Application.get_env(:snakebridge, :shm_threshold, @default_threshold) do
      :infinity ->
        :infinity

      bytes when is_integer(bytes) and bytes > 0 ->
        if File.dir?(@root), do: bytes, else: :infinity
    end
  end

  # Trust. /dev/shm is writable by every local user, so nothing found there is trusted
  # by its name alone (docs/DATA.md, "Trust"):
  #
  #   * this VM writes only in a directory it has just made (mkdir fails on a name that
  #     exists, whoever made it), with an unpredictable name, mode 0700, checked to be
  #     ours; its files are created with O_EXCL (so never through a symlink or into an
  #     existing file) and mode 0600;
  #   * it reads only regular files owned by its own uid, mode 0600, in a directory
  #     owned by its own uid with mode 0700 (a worker's, which the nanny made the same
  #     way); anything else is refused with an error naming what is wrong.
  #
  # The workers are told this VM's directory and read segments only from there.

  @doc false
  # This VM's segment directory, made on first use; nil without /dev/shm.
  def directory do
    case :persistent_term.get({__MODULE__, :directory}, nil) do
      nil -> :global.trans({__MODULE__, self()}, &make_directory/0, [node()])
      directory -> directory
    end
  end

  defp make_directory do
    case :persistent_term.get({__MODULE__, :directory}, nil) do
      nil ->
        directory = if File.dir?(@root), do: new_directory(5)
        :persistent_term.put({__MODULE__, :directory}, directory)
        directory

      directory ->
        directory
    end
  end

  defp new_directory(0), do: raise("cannot make a private segment directory in #{@root}")

  defp new_directory(tries) do
    path = Path.join(@root, "snakebridge-beam-#{System.pid()}-#{random_name()}")

    with :ok <- File.mkdir(path),
         :ok <- File.chmod(path, @private_mode),
         :ok <- check(path, :directory) do
      path
    else
      # Somebody else's: never used, never removed.
      {:error, :eexist} -> new_directory(tries - 1)
      {:error, reason} -> raise "cannot use #{path} for segments: #{reason}"
    end
  end

  defp random_name, do: Base.url_encode64(:crypto.strong_rand_bytes(12), padding: false)

  # `path` is a `type` (not a symlink to one), owned by this VM's uid and private to it.
  defp check(path, type) do
    # lstat, and not through the file server (see read!/2).
    case :prim_file.read_link_info(path) do
      {:ok, info} ->
        stat = File.Stat.from_record(info)

        cond do
          stat.type != type -> {:error, "it is a #{stat.type}, not a #{type}"}
          stat.uid != uid() -> {:error, "it belongs to uid #{stat.uid}, not #{uid()}"}
          Bitwise.band(stat.mode, @group_or_other) != 0 -> {:error, "others may access it"}
          true -> :ok
        end

      {:error, :enoent} ->
        {:error, :gone}

      {:error, reason} ->
        {:error, "it cannot be read (#{reason})"}
    end
  end

  # The uid this VM runs as: the owner of its own /proc entry.
  defp uid do
    case :persistent_term.get({__MODULE__, :uid}, nil) do
      nil ->
        {:ok, %File.Stat{uid: uid}} = File.stat("/proc/self")
        :persistent_term.put({__MODULE__, :uid}, uid)
        uid

      uid ->
        uid
    end
  end

  @doc false
  # Removes the segment directories of VMs that are no longer running (killed before
  # they could remove their own), or, with `own: true`, this VM's (as it stops). Only
  # directories of this uid are touched.
  def remove_directories(own: own?) do
    if own? do
      with directory when directory != nil <- :persistent_term.get({__MODULE__, :directory}, nil) do
        File.rm_rf(directory)
        # Forgotten with it: the application may start again in this VM, and its first
        # segment must make a new directory rather than write into the removed one.
        :persistent_term.erase({__MODULE__, :directory})
      end
    else
      for name <- File.ls!(@root),
          [_, os_pid | _] <- [Regex.run(~r/^snakebridge-beam-([0-9]+)(-[A-Za-z0-9_-]+)?$/, name)],
          not File.exists?("/proc/#{os_pid}"),
          path = Path.join(@root, name),
          check(path, :directory) == :ok,
          do: File.rm_rf(path)
    end

    :ok
  rescue
    File.Error -> :ok
  end

  @doc false
  # Does `binary` travel out of band?
  def out_of_band?(binary), do: byte_size(binary) >= @blob_min

  @doc false
  # The segment that stands for `binary` in a request this process is building: a file
  # above the threshold, else an inline blob queued for `frame_body/1`.
  def detach(binary) do
    if byte_size(binary) >= threshold(), do: write(binary), else: inline(binary)
  end

  # Queued for frame_body/1: {blob area size, blobs in reverse, bytes put in files}.
  defp inline(binary) do
    {offset, blobs, file_bytes} = Process.get({__MODULE__, :blobs}, {0, [], 0})
    Process.put({__MODULE__, :blobs}, {offset + byte_size(binary), [binary | blobs], file_bytes})
    %__MODULE__{path: nil, offset: offset, size: byte_size(binary)}
  end

  defp write(binary) do
    path = Path.join(directory(), random_name())
    # Before the file exists: if this process is killed from here on, it goes with it.
    SnakeBridge.Pool.Sessions.own_segment(path)
    # O_EXCL: a name that exists (a symlink included) is an error, never written through.
    with {:ok, fd} <- :prim_file.open(path, [:write, :exclusive, :binary]),
         :ok <- write_closing(fd, binary),
         :ok <- File.chmod(path, @file_mode) do
      :ok
    else
      # /dev/shm full, or the directory gone: the request is refused, saying why
      # (SnakeBridge.Call.Args turns this into an EncodeError).
      {:error, reason} ->
        _ = :prim_file.delete(path)

        throw(
          {:encoding, "cannot write a shared-memory segment in #{Path.dirname(path)} (#{reason})",
           binary}
        )
    end

    Process.put({__MODULE__, :files}, [path | Process.get({__MODULE__, :files}, [])])
    {offset, blobs, file_bytes} = Process.get({__MODULE__, :blobs}, {0, [], 0})
    Process.put({__MODULE__, :blobs}, {offset, blobs, file_bytes + byte_size(binary)})
    %__MODULE__{path: path, size: byte_size(binary)}
  end

  defp write_closing(fd, binary) do
    :prim_file.write(fd, binary)
  after
    :prim_file.close(fd)
  end

  @doc false
  # On a remote pool's host (Pool.Remote.Relay): a segment file of the calling node, at
  # the same path, in a directory of this uid with mode 0700 (made here if need be),
  # written exclusively with mode 0600. A path elsewhere, or a directory that is not
  # ours, is refused: the worker then finds no segment and answers with an error.
  def write_relayed(path, bytes) do
    directory = Path.dirname(path)

    with true <- Files.in_beam_directory?(path),
         :ok <- ensure_private(directory),
         {:ok, fd} <- :prim_file.open(path, [:write, :exclusive, :binary]) do
      try do
        :prim_file.write(fd, bytes)
      after
        :prim_file.close(fd)
      end

      File.chmod(path, @file_mode)
    else
      _ -> {:error, :refused}
    end
  end

  @doc false
  # Whether a node shares this VM's /dev/shm, the one test that holds: a file with a
  # random token, written here and read there (SnakeBridge.Pool.Remote.Host), then
  # dropped. nil without /dev/shm, or if it cannot be written (the far node then gets
  # request segments in the frame, which works on one host too).
  def probe do
    with directory when directory != nil <- directory() do
      path = Path.join(directory, "probe-" <> random_name())
      token = :crypto.strong_rand_bytes(16)

      with {:ok, fd} <- :prim_file.open(path, [:write, :exclusive, :binary]),
           :ok <- write_closing(fd, token),
           :ok <- File.chmod(path, @file_mode) do
        {path, token}
      else
        _ ->
          _ = :prim_file.delete(path)
          nil
      end
    end
  end

  @doc false
  def drop_probe(nil), do: :ok
  def drop_probe({path, _token}), do: :prim_file.delete(path)

  @doc false
  # On the far node: does the probe read back here?
  def probe_visible?({path, token}) when is_binary(path) and is_binary(token),
    do: Files.in_beam_directory?(path) and File.read(path) == {:ok, token}

  def probe_visible?(_probe), do: false

  @doc false
  # For a transport to another host (Pool.Transport.Remote): the segment files this
  # process wrote since its last frame, with their bytes, for the frame to carry to
  # `relay`. Their copies here are deleted; the ones the relay writes on its host are
  # deleted there once the request is over (clean_up/0) or its caller dies
  # (SnakeBridge.Shm.Files.delete/1): the far worker deletes those it reads, this
  # finds the ones it died before reading. A later frame of the same request (a
  # callback's answer) does not send them again.
  def take_for_relay(relay) do
    {already_relayed, local} = Enum.split_with(Process.get({__MODULE__, :files}, []), &is_tuple/1)

    taken =
      for path <- local do
        bytes = File.read!(path)
        :prim_file.delete(path)
        SnakeBridge.Pool.Sessions.disown_segment(path)
        SnakeBridge.Pool.Sessions.own_segment({:relayed, relay, path})
        {path, bytes}
      end

    if taken != [] do
      relayed = for {path, _bytes} <- taken, do: {:relayed, relay, path}
      Process.put({__MODULE__, :files}, relayed ++ already_relayed)
    end

    taken
  end

  defp ensure_private(directory) do
    case File.mkdir(directory) do
      :ok -> File.chmod(directory, @private_mode)
      {:error, :eexist} -> :ok
      error -> error
    end

    check(directory, :directory)
  end

  @doc false
  # A request body for `etf` (iodata) with the segments queued since the last one: the
  # flags bit to set, the iodata (blobs are not copied), and the bytes put in files for
  # it, which count against :max_frame like the frame itself.
  def frame_body(etf) do
    # The BIFs themselves, here and in clean_up/0: on every request's path.
    case :erlang.erase({__MODULE__, :blobs}) do
      :undefined ->
        {0, etf, 0}

      {_size, [], file_bytes} ->
        {0, etf, file_bytes}

      {_size, blobs, file_bytes} ->
        {@has_blobs, [<<:erlang.iolist_size(etf)::32>>, etf | Enum.reverse(blobs)], file_bytes}
    end
  end

  @doc false
  # Replaces every segment in a decoded reply by its bytes; `blobs` is the reply's blob
  # area (inline segments become sub-binaries of it, without a copy).
  def resolve(term, blobs), do: map_segments(term, &read!(&1, blobs))

  @doc false
  # Deletes the files in a reply nobody will use (its call was abandoned).
  def discard(term), do: map_segments(term, &if(&1.path, do: discard_file(&1.path)))

  defp discard_file(path) do
    trusted!(path)
    :prim_file.delete(path)
  rescue
    _ in [RuntimeError, __MODULE__.Gone] -> :refused
  end

  defp read!(%__MODULE__{path: nil, offset: offset, size: size}, blobs),
    do: binary_part(blobs, offset, size)

  defp read!(%__MODULE__{path: path, size: size}, _blobs) do
    trusted!(path)
    # Through :prim_file, not the file server: a binary read by the file server stays
    # referenced by it until its next garbage collection, which may be never.
    binary =
      case :prim_file.read_file(path) do
        {:ok, binary} -> binary
        {:error, :enoent} -> raise __MODULE__.Gone, path: path
        {:error, reason} -> raise "cannot read shared-memory segment #{path}: #{reason}"
      end

    :prim_file.delete(path)

    if byte_size(binary) != size do
      raise "shared-memory segment #{path} holds #{byte_size(binary)} bytes, expected #{size}"
    end

    binary
  end

  # A reply's segment must be a file of ours in a private directory of ours under /dev/shm
  # (see "Trust" above).
  defp trusted!(path) do
    directory = is_binary(path) and Path.dirname(path)

    problem =
      cond do
        not is_binary(path) or Path.dirname(directory) != @root or
            not String.starts_with?(Path.basename(directory), "snakebridge-") ->
          "it is not in a SnakeBridge directory of #{@root}"

        (result = check(directory, :directory)) != :ok ->
          result

        (result = check(path, :regular)) != :ok ->
          result

        true ->
          nil
      end

    case problem do
      nil -> :ok
      # Removed with the worker that wrote it, which died before it was read.
      {:error, :gone} -> raise __MODULE__.Gone, path: path
      {:error, reason} -> raise "refusing shared-memory segment #{inspect(path)}: #{reason}"
      reason -> raise "refusing shared-memory segment #{inspect(path)}: #{reason}"
    end
  end

  defp map_segments(%__MODULE__{} = segment, fun), do: fun.(segment)
  defp map_segments(list, fun) when is_list(list), do: Enum.map(list, &map_segments(&1, fun))

  defp map_segments(tuple, fun) when is_tuple(tuple),
    do: tuple |> Tuple.to_list() |> Enum.map(&map_segments(&1, fun)) |> List.to_tuple()

  defp map_segments(%MapSet{} = set, fun), do: MapSet.new(set, &map_segments(&1, fun))

  # Keys too: a str or bytes key of BLOB_MIN bytes or more travels out of band as well.
  defp map_segments(map, fun) when is_map(map) do
    for {key, value} <- :maps.to_list(map), into: %{} do
      {map_segments(key, fun), map_segments(value, fun)}
    end
  end

  defp map_segments(other, _fun), do: other

  @doc false
  # Deletes the files this process wrote for its last request (Python deletes what it
  # reads, so this only finds the ones a dead worker never read), here or on the host
  # they were relayed to, and drops inline blobs queued by a request that was never sent.
  def clean_up do
    # Reads first: on every request's path, and nearly always there is nothing to do.
    if :erlang.get({__MODULE__, :blobs}) != :undefined, do: :erlang.erase({__MODULE__, :blobs})

    case :erlang.get({__MODULE__, :files}) do
      :undefined ->
        :ok

      files ->
        Process.delete({__MODULE__, :files})
        Files.delete(files)
        SnakeBridge.Pool.Sessions.forget_segments()
    end
  end
end

defmodule SnakeBridge.Shm.Gone do
  @moduledoc false
  # A reply's segment that is no longer there: its worker died, and its directory went
  # with it, before the caller could read it. The call gets a WorkerCrashError.
  defexception [:path]

  @impl true
  def message(%{path: path}),
    do:
      "the result's shared-memory segment #{path} was removed with its worker before it was read"
end
