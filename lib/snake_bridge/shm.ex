defmodule SnakeBridge.Shm do
  @moduledoc false
  # Large binaries through shared memory: above a size threshold a binary is written to
  # a file in /dev/shm and only its name crosses the port, as %SnakeBridge.Shm{}. A
  # tmpfs file costs one copy to write and one to read, against the pipe's copies into
  # and out of the kernel in 64 KiB steps with a context switch each.
  #
  # Who cleans up: the reader deletes a segment as soon as it has read it. Segments
  # the BEAM wrote and Python never read (the worker died first) are deleted by the
  # caller when its call ends, whatever the outcome. Segments a worker wrote and nobody
  # read (a caller that timed out) live in the worker's own directory, which is
  # removed when the worker exits (see the nanny).
  #
  # The threshold defaults to the crossover measured by bench/bytes.exs and is set with
  # `config :snakebridge, shm_threshold: bytes | :infinity` (:infinity disables).

  @enforce_keys [:path, :size]
  defstruct [:path, :size]

  @root "/dev/shm"
  @default_threshold 1_048_576

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
  # Writes `binary` to a new segment owned by this VM.
  def write(binary) do
    dir = Path.join(@root, "snakebridge-beam-#{System.pid()}")
    File.mkdir_p!(dir)
    path = Path.join(dir, Integer.to_string(System.unique_integer([:positive])))
    File.write!(path, binary, [:raw])
    Process.put(__MODULE__, [path | Process.get(__MODULE__, [])])
    %__MODULE__{path: path, size: byte_size(binary)}
  end

  @doc false
  # Reads and deletes a segment.
  def read!(%__MODULE__{path: path, size: size}) do
    binary = File.read!(path)
    File.rm(path)

    if byte_size(binary) != size do
      raise "shared-memory segment #{path} holds #{byte_size(binary)} bytes, expected #{size}"
    end

    binary
  end

  @doc false
  # Replaces every segment in a decoded reply by its contents.
  def resolve(term), do: map_segments(term, &read!/1)

  @doc false
  # Deletes every segment in a reply nobody will use (its call was abandoned).
  def discard(term), do: map_segments(term, &File.rm(&1.path))

  defp map_segments(%__MODULE__{} = segment, fun), do: fun.(segment)
  defp map_segments(list, fun) when is_list(list), do: Enum.map(list, &map_segments(&1, fun))

  defp map_segments(tuple, fun) when is_tuple(tuple),
    do: tuple |> Tuple.to_list() |> Enum.map(&map_segments(&1, fun)) |> List.to_tuple()

  defp map_segments(%MapSet{} = set, fun), do: MapSet.new(set, &map_segments(&1, fun))

  defp map_segments(map, fun) when is_map(map),
    do: :maps.map(fn _key, value -> map_segments(value, fun) end, map)

  defp map_segments(other, _fun), do: other

  @doc false
  # Is `binary` big enough to go through shared memory?
  def big?(binary) when byte_size(binary) < 65_536, do: false
  def big?(binary), do: byte_size(binary) >= threshold()

  @doc false
  # Deletes the segments this process wrote for its last request (Python deletes what
  # it reads, so this only finds the ones a dead worker never read).
  def clean_up do
    case Process.delete(__MODULE__) do
      nil -> :ok
      paths -> Enum.each(paths, &File.rm/1)
    end
  end
end
