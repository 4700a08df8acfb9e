defmodule SnakeBridge.Call.Reply do
  @moduledoc false
  # A reply's payload as Elixir terms: plain ETF, or ETF with segments to resolve
  # (SnakeBridge.Shm), and the errors a reply can stand for.

  import Bitwise

  alias SnakeBridge.{EncodeError, Ref, Shm, TimeoutError, Wire, WorkerCrashError}
  alias SnakeBridge.Call.EtfRefs
  alias SnakeBridge.Pool.{Housekeeping, Table}

  @shm_flag Wire.shm_flag()
  @blob_flag Wire.blob_flag()

  # Atoms that replies contain, kept in this module's literals so that they exist
  # before the first `binary_to_term(_, [:safe])`. Struct names are written as atoms:
  # they are data here, not modules this one calls.
  @reply_atoms [
    :"Elixir.SnakeBridge.Ref",
    :"Elixir.SnakeBridge.Bytes",
    :"Elixir.SnakeBridge.Array",
    :"Elixir.SnakeBridge.PythonError",
    :"Elixir.SnakeBridge.RefError",
    :"Elixir.SnakeBridge.EncodeError",
    :"Elixir.Calendar.ISO",
    :id,
    :type,
    :session,
    :worker,
    :dtype,
    :shape,
    :data,
    :traceback,
    :bases,
    :reason,
    :message,
    :path,
    :value,
    :refs,
    :sessions,
    :pending,
    :callbacks,
    :os_pid,
    :rss,
    :python_blocks,
    :protocol,
    :python,
    :pid,
    :control,
    :cont,
    :done,
    :cancelled,
    :orphan_callback,
    :hello,
    :main,
    :limit,
    :released,
    :unknown,
    :nan,
    :infinity,
    :neg_infinity
  ]

  @doc "The atoms a reply may contain (see the comment above)."
  @spec atoms() :: [atom]
  def atoms, do: @reply_atoms

  @doc """
  A final reply's payload, or the error that stands for it. A reply the VM cannot
  decode is an EncodeError saying why, and what it holds is cleaned up as by
  `discard/2`, since its caller never gets the refs in it.
  """
  @spec decoded(byte, binary) :: {:ok, term} | {:error, EncodeError.t()}
  def decoded(kind, payload) do
    {:ok, decode(kind, payload)}
  rescue
    # The worker died, and its segments and refs with it, before this reply was read.
    gone in Shm.Gone ->
      {:error, %WorkerCrashError{reason: Exception.message(gone)}}

    # A shared-memory segment that is not ours, or not whole (SnakeBridge.Shm).
    error in RuntimeError ->
      discard(kind, payload)
      {:error, %EncodeError{path: "(the reply)", value: nil, reason: Exception.message(error)}}

    ArgumentError ->
      etf = etf(kind, payload)
      {found, problem} = EtfRefs.scan(etf)
      clean_up(kind, found)
      # The walker sees no atom or byte amiss when the term's keys collide, and when
      # the term is sound but what it names (an inline segment) is not.
      problem = if problem == nil and decodes?(etf), do: :malformed, else: problem
      {:error, %EncodeError{path: "(the reply)", value: nil, reason: undecodable(problem)}}
  end

  defp decodes?(etf) do
    _ = :erlang.binary_to_term(etf, [:safe])
    true
  rescue
    ArgumentError -> false
  end

  defp undecodable({:unknown_atom, name}) do
    "the result holds the atom #{name}, which does not exist in this VM (a " <>
      "reply never creates atoms); return: :ref keeps it in Python"
  end

  defp undecodable(:malformed), do: "the reply is not a term this VM can read"

  defp undecodable(nil) do
    "the result has a dict or set whose keys are distinct in Python but equal in Elixir " <>
      "(two NaN keys, or a DataFrame's repeated column names), so it has " <>
      "no map form; return: :ref keeps it in Python"
  end

  @doc "A reply payload as a term, its segments resolved."
  @spec decode(byte, binary) :: term
  def decode(kind, payload) when (kind &&& @blob_flag) != 0 do
    <<size::32, etf::binary-size(size), blobs::binary>> = payload
    Shm.resolve(:erlang.binary_to_term(etf, [:safe]), blobs)
  end

  def decode(kind, payload) when (kind &&& @shm_flag) != 0,
    do: Shm.resolve(:erlang.binary_to_term(payload, [:safe]), <<>>)

  # A reply that is one float, integer, None or bool, the commonest replies there are,
  # is read by a match: the decoder's BIF, called cold on one CPU shared with the
  # worker, cost 0.42–0.8 µs a call (bench/README.md, "session 7"). The bytes are
  # those of Python's `scalar_term`; a non-finite float is no NEW_FLOAT_EXT match.
  def decode(_kind, <<131, 70, value::float-64>>), do: value
  def decode(_kind, <<131, 97, value>>), do: value
  def decode(_kind, <<131, 98, value::signed-32>>), do: value
  def decode(_kind, <<131, 119, 3, "nil">>), do: nil
  def decode(_kind, <<131, 119, 4, "true">>), do: true
  def decode(_kind, <<131, 119, 5, "false">>), do: false
  def decode(_kind, payload), do: :erlang.binary_to_term(payload, [:safe])

  @doc """
  Cleans up after a final reply that nobody will read (its call was given up): deletes
  the segment files it names and releases the refs made for it. The reply is walked,
  not decoded (SnakeBridge.Call.EtfRefs), so this holds for a reply the VM cannot
  decode as well. A ref in it that its session already held (the engine gives an
  object one id per session) is kept: the worker releases only those of the refs named
  that no other reply has carried (RELEASE_MADE, see Housekeeping.release_made/2).
  """
  @spec discard(byte, binary) :: :ok
  def discard(kind, payload) do
    {found, _problem} = EtfRefs.scan(etf(kind, payload))
    clean_up(kind, found)
  end

  defp etf(kind, payload) when (kind &&& @blob_flag) != 0 do
    <<size::32, etf::binary-size(size), _blobs::binary>> = payload
    etf
  end

  defp etf(_kind, payload), do: payload

  defp clean_up(kind, found) do
    {segments, refs} = Enum.split_with(found, &is_struct(&1, Shm))
    if (kind &&& @shm_flag) != 0, do: Shm.discard(segments)

    refs
    |> Enum.group_by(&{&1.worker, &1.session}, & &1.id)
    |> Enum.each(fn {{worker, session}, ids} ->
      Housekeeping.release_made(%Ref{id: nil, type: nil, worker: worker, session: session}, ids)
    end)
  end

  @doc "The error an ERROR reply's decoded payload stands for."
  @spec error(term, timeout) :: Exception.t()
  def error(:cancelled, timeout), do: %TimeoutError{timeout: timeout}
  def error(exception, _timeout), do: exception

  @doc "The error for a worker server that went down with `reason` during a call."
  @spec crash_error(atom, non_neg_integer, pid, term) :: WorkerCrashError.t()
  def crash_error(_pool, _index, _server, {:shutdown, %WorkerCrashError{} = error}), do: error

  # It had stopped before the call watched it: how it stopped is in the pool's record.
  def crash_error(pool, index, server, :noproc) do
    Table.exit_reason(pool, index, server) ||
      %WorkerCrashError{reason: "the worker is not running"}
  end

  def crash_error(_pool, _index, _server, reason),
    do: %WorkerCrashError{reason: "the worker stopped: #{inspect(reason)}"}
end
