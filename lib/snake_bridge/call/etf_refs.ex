defmodule SnakeBridge.Call.EtfRefs do
  @moduledoc false
  # The refs and segments in a reply, found without decoding it.
  #
  # `binary_to_term(_, [:safe])` refuses a whole reply for one part it cannot build: a
  # map with a repeated key (a Python dict whose keys are distinct in Python but equal
  # in Elixir, such as two NaN keys) or an atom this VM does not have. The refs the
  # worker made for that reply, and the segment files it wrote, would then stay behind
  # with nobody to release them. So such a reply is walked here byte by byte, skipping
  # over terms without building them; only a map that is a %SnakeBridge.Ref{} or a
  # %SnakeBridge.Shm{} is decoded, on its own. The walk also says why the reply was
  # refused, when it can tell.
  #
  # It knows the tags the engine's encoder writes (priv/python/snakebridge/_etf.py),
  # and those of the Elixir terms the engine passes back verbatim: the worker's
  # identity in every ref, written by this VM's term_to_binary, and funs. On any other
  # tag, or a term cut short, it stops and keeps what it found so far.

  alias SnakeBridge.{Ref, Shm}

  require Ref

  # Tags (erts/emulator/beam/external.h), as in _etf.py.
  @new_float 70
  @small_integer 97
  @integer 98
  @atom 100
  @small_tuple 104
  @large_tuple 105
  @nil_ext 106
  @list 108
  @binary 109
  @small_big 110
  @large_big 111
  @new_fun 112
  @export 113
  @small_atom 115
  @map 116
  @atom_utf8 118
  @small_atom_utf8 119

  @typedoc """
  Why the VM refused the reply, as far as the walk tells: the first atom it names that
  this VM does not have, a tag or a length the walk does not understand, or nil when
  neither (then a map with a repeated key, the only other thing in an engine's term
  that `[:safe]` refuses).
  """
  @type problem :: {:unknown_atom, String.t()} | :malformed | nil

  @doc "The refs and segments in the ETF reply `etf`, and why the VM cannot decode it."
  @spec scan(binary) :: {[Ref.t() | Shm.t()], problem}
  def scan(<<131, term::binary>>) do
    {_rest, state} = term(term, {[], nil})
    state
  catch
    {__MODULE__, {found, problem}} -> {found, problem || :malformed}
  end

  def scan(_etf), do: {[], :malformed}

  # Each clause returns what follows the term, and the state: {found, problem}.
  defp term(<<@small_integer, _, rest::binary>>, state), do: {rest, state}
  defp term(<<@integer, _::32, rest::binary>>, state), do: {rest, state}
  defp term(<<@new_float, _::64, rest::binary>>, state), do: {rest, state}
  defp term(<<@small_big, n, _sign, _::binary-size(n), rest::binary>>, state), do: {rest, state}

  defp term(<<@large_big, n::32, _sign, _::binary-size(n), rest::binary>>, state),
    do: {rest, state}

  defp term(<<@binary, n::32, _::binary-size(n), rest::binary>>, state), do: {rest, state}
  defp term(<<@nil_ext, rest::binary>>, state), do: {rest, state}
  defp term(<<@small_tuple, n, rest::binary>>, state), do: terms(rest, n, state)
  defp term(<<@large_tuple, n::32, rest::binary>>, state), do: terms(rest, n, state)
  # The elements, then the tail.
  defp term(<<@list, n::32, rest::binary>>, state), do: terms(rest, n + 1, state)
  defp term(<<@map, n::32, rest::binary>> = map, state), do: pairs(rest, n, nil, map, state)
  # Module, function and arity.
  defp term(<<@export, rest::binary>>, state), do: terms(rest, 3, state)

  # Its size counts itself; a fun's environment holds nothing the engine made.
  defp term(<<@new_fun, size::32, rest::binary>>, state) when size >= 4 do
    case rest do
      <<_::binary-size(size - 4), rest::binary>> -> {rest, state}
      _ -> stop(state)
    end
  end

  defp term(<<tag, _::binary>> = atom, state)
       when tag in [@small_atom_utf8, @atom_utf8, @small_atom, @atom] do
    case atom(atom) do
      {text, rest} -> {rest, check_atom(tag, text, state)}
      nil -> stop(state)
    end
  end

  defp term(_other, state), do: stop(state)

  defp terms(rest, 0, state), do: {rest, state}

  defp terms(binary, n, state) do
    {rest, state} = term(binary, state)
    terms(rest, n - 1, state)
  end

  # `struct`: the struct this map is, if it is one the walk looks for; `map`: the
  # map's bytes from its tag on.
  defp pairs(rest, 0, struct, map, state) do
    if struct do
      size = byte_size(map) - byte_size(rest)
      {rest, found(struct, binary_part(map, 0, size), state)}
    else
      {rest, state}
    end
  end

  defp pairs(key, n, struct, map, state) do
    {value, state} = term(key, state)
    {rest, state} = term(value, state)
    pairs(rest, n - 1, struct || struct_name(key, value), map, state)
  end

  defp struct_name(key, value) do
    with {"__struct__", _} <- atom(key),
         {name, _} when name in ["Elixir.SnakeBridge.Ref", "Elixir.SnakeBridge.Shm"] <-
           atom(value) do
      name
    else
      _ -> nil
    end
  end

  # The text of the atom at the start of `binary`, and what follows it; nil if it is
  # not an atom.
  defp atom(<<tag, n, text::binary-size(n), rest::binary>>)
       when tag in [@small_atom_utf8, @small_atom],
       do: {text, rest}

  defp atom(<<tag, n::16, text::binary-size(n), rest::binary>>)
       when tag in [@atom_utf8, @atom],
       do: {text, rest}

  defp atom(_other), do: nil

  defp check_atom(_tag, _text, {_found, {:unknown_atom, _}} = state), do: state

  defp check_atom(tag, text, {found, _problem} = state) do
    encoding = if tag in [@small_atom_utf8, @atom_utf8], do: :utf8, else: :latin1
    _ = :erlang.binary_to_existing_atom(text, encoding)
    state
  rescue
    ArgumentError -> {found, {:unknown_atom, text}}
  end

  # The struct's map decoded on its own; one that does not decode, or is not the shape
  # the VM issues, is not ours and is skipped.
  defp found(struct, bytes, {found, problem} = state) do
    case {struct, :erlang.binary_to_term(<<131, bytes::binary>>, [:safe])} do
      {"Elixir.SnakeBridge.Ref", ref} when Ref.is_well_formed(ref) ->
        {[ref | found], problem}

      {"Elixir.SnakeBridge.Shm", %Shm{path: path} = segment} when is_binary(path) ->
        {[segment | found], problem}

      _ ->
        state
    end
  rescue
    ArgumentError -> state
  end

  defp stop(state), do: throw({__MODULE__, state})
end
