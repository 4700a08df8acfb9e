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

  alias SnakeBridge.Wire

  @enforce_keys [:path, :size]
  defstruct [:path, :size, offset: 0]

  @root "/dev/shm"
  # 256 MiB: where bench/bytes.exs finds the two paths even (the worker widens its
  # pipes to 1 MiB, and below this the pipe is faster).
  @default_threshold 268_435_456
  @blob_min Wire.blob_min()
  @has_blobs Wire.has_blobs()

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

  @doc false
  # Removes the segment directories of VMs that are no longer running (killed before
  # they could remove their own), or, with `own: true`, this VM's (as it stops).
  def remove_directories(own: own?) do
    if own? do
      File.rm_rf(beam_dir(System.pid()))
    else
      for name <- File.ls!(@root),
          [_, os_pid] <- [Regex.run(~r/^snakebridge-beam-([0-9]+)$/, name)],
          not File.exists?("/proc/#{os_pid}"),
          do: File.rm_rf(Path.join(@root, name))
    end

    :ok
  rescue
    File.Error -> :ok
  end

  defp beam_dir(os_pid), do: Path.join(@root, "snakebridge-beam-#{os_pid}")

  @doc false
  # Does `binary` travel out of band?
  def out_of_band?(binary), do: byte_size(binary) >= @blob_min

  @doc false
  # The segment that stands for `binary` in a request this process is building: a file
  # above the threshold, else an inline blob queued for `frame_body/1`.
  def detach(binary) do
    if byte_size(binary) >= threshold(), do: write(binary), else: inline(binary)
  end

  defp inline(binary) do
    {offset, blobs} = Process.get({__MODULE__, :blobs}, {0, []})
    Process.put({__MODULE__, :blobs}, {offset + byte_size(binary), [binary | blobs]})
    %__MODULE__{path: nil, offset: offset, size: byte_size(binary)}
  end

  defp write(binary) do
    dir = beam_dir(System.pid())
    File.mkdir_p!(dir)
    path = Path.join(dir, Integer.to_string(System.unique_integer([:positive])))
    File.write!(path, binary, [:raw])
    Process.put({__MODULE__, :files}, [path | Process.get({__MODULE__, :files}, [])])
    %__MODULE__{path: path, size: byte_size(binary)}
  end

  @doc false
  # A request body for `etf` (iodata) with the inline blobs queued since the last one: the
  # flags bit to set, and the iodata (blobs are not copied).
  def frame_body(etf) do
    case Process.delete({__MODULE__, :blobs}) do
      nil ->
        {0, etf}

      {_size, blobs} ->
        {@has_blobs, [<<:erlang.iolist_size(etf)::32>>, etf | Enum.reverse(blobs)]}
    end
  end

  @doc false
  # Replaces every segment in a decoded reply by its bytes; `blobs` is the reply's blob
  # area (inline segments become sub-binaries of it, without a copy).
  def resolve(term, blobs), do: map_segments(term, &read!(&1, blobs))

  @doc false
  # Deletes the files in a reply nobody will use (its call was abandoned).
  def discard(term), do: map_segments(term, &if(&1.path, do: File.rm(&1.path)))

  defp read!(%__MODULE__{path: nil, offset: offset, size: size}, blobs),
    do: binary_part(blobs, offset, size)

  defp read!(%__MODULE__{path: path, size: size}, _blobs) do
    binary = File.read!(path)
    File.rm(path)

    if byte_size(binary) != size do
      raise "shared-memory segment #{path} holds #{byte_size(binary)} bytes, expected #{size}"
    end

    binary
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
  # reads, so this only finds the ones a dead worker never read), and drops inline
  # blobs queued by a request that was never sent.
  def clean_up do
    # Reads first: on every request's path, and nearly always there is nothing to do.
    if Process.get({__MODULE__, :blobs}), do: Process.delete({__MODULE__, :blobs})

    case Process.get({__MODULE__, :files}) do
      nil ->
        :ok

      paths ->
        Process.delete({__MODULE__, :files})
        Enum.each(paths, &File.rm/1)
    end
  end
end
