defmodule SnakeBridge.Shm.Files do
  @moduledoc false
  # Deleting segment files wherever they are: on this host (a path), or on the host of
  # the remote pool's relay they were sent to ({:relayed, relay, path}, see
  # SnakeBridge.Shm.take_for_relay/1). Below SnakeBridge.Shm, which deletes those of a
  # request when it is over, and SnakeBridge.Pool.Sessions, which deletes those of a
  # caller that died first.

  @root "/dev/shm"

  @doc "Where segment directories live."
  def root, do: @root

  @doc "Is `path` in a BEAM's segment directory (as Shm names them)?"
  def in_beam_directory?(path) do
    directory = Path.dirname(path)

    Path.dirname(directory) == @root and
      String.starts_with?(Path.basename(directory), "snakebridge-beam-")
  end

  @doc """
  Deletes `files`. A relayed one is deleted by its relay, after the frame it was written
  for (its messages are in order), and by the relay's node as well: a relay that is gone
  with its worker deletes nothing.
  """
  def delete(files) do
    {relayed, local} = Enum.split_with(files, &is_tuple/1)
    Enum.each(local, &:prim_file.delete/1)

    for {relay, paths} <- Enum.group_by(relayed, &elem(&1, 1), &elem(&1, 2)) do
      send(relay, {:snakebridge_delete_relayed, paths})
      :erpc.cast(node(relay), __MODULE__, :delete_relayed, [paths])
    end

    :ok
  end

  @doc """
  On a remote pool's host: deletes relayed files the worker did not read (it deletes
  what it reads). Only files in a BEAM's segment directory, as
  SnakeBridge.Shm.write_relayed/2 writes them.
  """
  def delete_relayed(paths) do
    for path <- paths, in_beam_directory?(path), do: :prim_file.delete(path)
    :ok
  end
end
