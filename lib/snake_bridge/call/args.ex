defmodule SnakeBridge.Call.Args do
  @moduledoc false
  # Prepares terms for sending: finds the refs in them (they decide which worker gets
  # the call), turns user structs into terms through SnakeBridge.Encoder, takes big
  # binaries out of the term (SnakeBridge.Shm), and refuses what Python cannot
  # receive — before anything is sent, naming where it sits.
  #
  # The common case (nothing to rewrite) is a read-only walk that returns the term
  # itself, so arguments are not rebuilt on every call.

  require SnakeBridge.Ref
  alias SnakeBridge.{EncodeError, Ref, RefError, Shm}

  # The bridge's own data structs, named as atoms because they are only compared here:
  # an alias would count as a call for `mix xref`, and SnakeBridge.Array calls the
  # runtime, so the no-cycle check (test/snake_bridge/layers_test.exs) would see one.
  @data_structs [:"Elixir.SnakeBridge.Bytes", :"Elixir.SnakeBridge.Array"]
  # A slice's fields are terms like any other (ints, refs, labels), walked as a list.
  @slice :"Elixir.SnakeBridge.Slice"
  @passthrough @data_structs ++ [@slice, Date, Time, NaiveDateTime, DateTime]
  # SnakeBridge.Encoder results that are themselves structs to encode: a chain longer
  # than this is taken for a loop.
  @max_encodings 32
  @not_str [nil, true, false, :nan, :infinity, :neg_infinity]

  @typedoc "The worker the refs in a term live on, if any."
  @type worker :: {atom, non_neg_integer, pos_integer} | nil

  @doc false
  # A module named by an Elixir string, as the target of a call or attribute: marked so
  # that Python imports only such names, and takes a ref (even to a str) as the object.
  @spec module_name(String.t()) :: map
  def module_name(name) when is_binary(name),
    do: %{__struct__: :"Elixir.SnakeBridge.Call.ModuleName", name: name}

  @doc false
  @spec prepare(term, String.t(), worker) ::
          {:ok, term, worker} | {:error, EncodeError.t() | RefError.t()}
  def prepare(term, root, worker \\ nil) do
    case scan(term, worker, false) do
      {:ok, worker} -> {:ok, term, worker}
      :rewrite -> rewrite(term, root, worker)
      :invalid -> refuse(locate(term, root, false))
    end
  catch
    {:cross_worker, a, b} -> refuse(cross_worker(a, b))
    {:malformed_ref, ref} -> refuse(malformed_ref(ref))
    {:encoding, reason, value} -> refuse(%EncodeError{path: root, value: value, reason: reason})
  end

  # A request refused while its terms are prepared is never sent: the segments queued
  # for the terms prepared before this one (its arguments, when its keyword arguments
  # are refused) go now, or the process's next request would carry them.
  defp refuse(error) do
    Shm.clean_up()
    {:error, error}
  end

  @doc false
  # A term `prepare/3` returns as it is, whatever it sits in: a number or an atom holds
  # no ref, encoder struct or big binary (see scan/3).
  defguard is_ready_scalar(term) when is_number(term) or is_atom(term)

  @doc false
  # A flat list of numbers, atoms and binaries below the out-of-band size: arguments
  # that `prepare/3` returns as they are, with no refs in them. Read without scan's
  # bookkeeping, for SnakeBridge.Call.fast_call/3.
  @spec plain?(term) :: boolean
  def plain?([]), do: true
  def plain?([term | rest]) when is_ready_scalar(term), do: plain?(rest)

  def plain?([term | rest]) when is_binary(term),
    do: not Shm.out_of_band?(term) and plain?(rest)

  def plain?(_other), do: false

  @doc false
  # Keyword arguments or eval bindings: a keyword list or a map whose keys are names
  # (atoms or UTF-8 strings, each given once), then prepared like any term.
  @spec prepare_keywords(list | map, String.t(), worker) ::
          {:ok, term, worker} | {:error, EncodeError.t() | RefError.t()}
  def prepare_keywords([], _root, worker), do: {:ok, [], worker}

  def prepare_keywords(keywords, root, worker) do
    case keyword_problem(keywords) do
      nil ->
        prepare(keywords, root, worker)

      {at, value, reason} ->
        refuse(%EncodeError{path: root <> at, value: value, reason: reason})
    end
  end

  defp keyword_problem(map) when is_map(map) do
    Enum.find_value(map, fn {key, _value} ->
      if name_text(key) == nil, do: {"(key)", key, "a keyword name must be an atom or a string"}
    end)
  end

  defp keyword_problem(list), do: keyword_list_problem(list, 0, %{})

  defp keyword_list_problem([], _index, _seen), do: nil

  defp keyword_list_problem([{name, _value} = pair | rest], index, seen) do
    case name_text(name) do
      nil ->
        {"[#{index}]", pair, "a keyword name must be an atom or a string"}

      text when is_map_key(seen, text) ->
        {"[#{index}]", pair, "the keyword #{inspect(text)} is given twice"}

      text ->
        keyword_list_problem(rest, index + 1, Map.put(seen, text, true))
    end
  end

  defp keyword_list_problem([other | _rest], index, _seen),
    do: {"[#{index}]", other, "a keyword argument must be a {name, value} pair"}

  defp keyword_list_problem(improper, _index, _seen),
    do: {"", improper, "an improper list has no Python form"}

  defp name_text(name) when is_atom(name) and name not in @not_str, do: Atom.to_string(name)
  defp name_text(name) when is_binary(name), do: if(String.valid?(name), do: name)
  defp name_text(_name), do: nil

  # {:ok, worker} | :rewrite (an Encoder struct or a big binary is inside) | :invalid.
  # `rewritten`: the term is the rewrite's output, whose %Shm{} segments it made itself;
  # anywhere else a %Shm{} is a struct like any other, and refused.
  defp scan(term, worker, _rewritten)
       when is_integer(term) or is_float(term) or is_atom(term) or is_function(term),
       do: {:ok, worker}

  defp scan(term, worker, _rewritten) when is_binary(term),
    do: if(Shm.out_of_band?(term), do: :rewrite, else: {:ok, worker})

  defp scan([], worker, _rewritten), do: {:ok, worker}

  defp scan([head | tail], worker, rewritten) do
    case scan(head, worker, rewritten) do
      {:ok, worker} -> scan_tail(tail, worker, rewritten)
      other -> other
    end
  end

  defp scan(%Ref{worker: ref_worker} = ref, worker, _rewritten) when Ref.is_well_formed(ref),
    do: {:ok, same_worker(worker, ref_worker)}

  defp scan(%Ref{} = ref, _worker, _rewritten), do: throw({:malformed_ref, ref})

  # A MapSet's inside is a map; a forged one is a struct like any other, and refused.
  defp scan(%MapSet{map: map} = set, worker, rewritten) when is_map(map),
    do: scan(MapSet.to_list(set), worker, rewritten)

  defp scan(%struct{data: data}, worker, rewritten)
       when struct in @data_structs,
       do: scan(data, worker, rewritten)

  defp scan(%{__struct__: @slice, start: start, stop: stop, step: step}, worker, rewritten),
    do: scan([start, stop, step], worker, rewritten)

  defp scan(%struct{}, worker, _rewritten) when struct in @passthrough, do: {:ok, worker}
  defp scan(%Shm{}, worker, true), do: {:ok, worker}

  defp scan(%_{} = struct, _worker, _rewritten) do
    if SnakeBridge.Encoder.impl_for(struct) != nil, do: :rewrite, else: :invalid
  end

  # A map with a :__struct__ key that is not a struct (its value is not a module name,
  # as JSON decoding gives) would pass for one in Python: refused.
  defp scan(map, worker, rewritten) when is_map(map) do
    if colliding_key(map) == nil and not is_map_key(map, :__struct__) do
      Enum.reduce_while(map, {:ok, worker}, fn {key, value}, {:ok, worker} ->
        with {:ok, worker} <- scan(key, worker, rewritten),
             {:ok, worker} <- scan(value, worker, rewritten) do
          {:cont, {:ok, worker}}
        else
          other -> {:halt, other}
        end
      end)
    else
      :invalid
    end
  end

  defp scan(tuple, worker, rewritten) when is_tuple(tuple),
    do: scan(Tuple.to_list(tuple), worker, rewritten)

  defp scan(_other, _worker, _rewritten), do: :invalid

  defp scan_tail(tail, worker, rewritten) when is_list(tail), do: scan(tail, worker, rewritten)
  defp scan_tail(_improper, _worker, _rewritten), do: :invalid

  defp same_worker(nil, worker), do: worker
  defp same_worker(worker, worker), do: worker
  defp same_worker(a, b), do: throw({:cross_worker, a, b})

  # Pass 2, only when some struct needs SnakeBridge.Encoder: rebuild with replacements.
  # Segments it wrote for a term that is then refused are deleted at once.
  defp rewrite(term, root, worker) do
    replaced = replace(term)

    case scan(replaced, worker, true) do
      {:ok, worker} ->
        {:ok, replaced, worker}

      _ ->
        Shm.clean_up()
        {:error, locate(replaced, root, true)}
    end
  catch
    thrown ->
      Shm.clean_up()
      throw(thrown)
  end

  defp replace(binary) when is_binary(binary),
    do: if(Shm.out_of_band?(binary), do: Shm.detach(binary), else: binary)

  defp replace(list) when is_list(list), do: map_list(list)

  defp replace(tuple) when is_tuple(tuple),
    do: tuple |> Tuple.to_list() |> map_list() |> List.to_tuple()

  defp replace(%Ref{} = ref), do: ref
  defp replace(%MapSet{} = set), do: set |> MapSet.to_list() |> map_list() |> MapSet.new()

  defp replace(%struct{} = value) when struct in @data_structs,
    do: %{value | data: replace(value.data)}

  defp replace(%{__struct__: @slice} = slice),
    do: %{
      slice
      | start: replace(slice.start),
        stop: replace(slice.stop),
        step: replace(slice.step)
    }

  defp replace(%struct{} = value) when struct in @passthrough, do: value

  # Every %Shm{} in the output is one this walk made; one in the input is refused.
  defp replace(%Shm{} = value),
    do: throw({:encoding, "SnakeBridge.Shm is internal and cannot be sent", value})

  defp replace(%_{} = value), do: encode_struct(value, value, @max_encodings)

  defp replace(map) when is_map(map) do
    replaced = Map.new(map, fn {k, v} -> {replace(k), replace(v)} end)

    if map_size(replaced) < map_size(map),
      do: throw({:encoding, "two keys are equal once encoded by SnakeBridge.Encoder", map}),
      else: replaced
  end

  defp replace(other), do: other

  defp encode_struct(%struct{} = value, original, left)
       when struct not in @passthrough and struct != Shm do
    cond do
      SnakeBridge.Encoder.impl_for(value) == nil ->
        value

      left == 0 ->
        throw(
          {:encoding,
           "SnakeBridge.Encoder gave a struct to encode again #{@max_encodings} times in a row",
           original}
        )

      true ->
        encode_struct(SnakeBridge.Encoder.encode(value), original, left - 1)
    end
  end

  defp encode_struct(other, _original, _left), do: replace(other)

  defp map_list([head | tail]), do: [replace(head) | map_list(tail)]
  defp map_list(tail), do: tail

  # Slow path, only on error: walk again, this time keeping the path, to say where.
  # `rewritten` as in scan/3. The path is iodata, joined only for the error: a string
  # per level would cost memory quadratic in the depth of a deeply nested term.
  defp locate(term, path, rewritten) do
    case find_invalid(term, path, rewritten) do
      nil -> invalid(path, term, "cannot be sent")
      error -> error
    end
  end

  defp find_invalid(term, path, rw) when is_list(term) do
    if term != [] and Keyword.keyword?(term) do
      Enum.find_value(term, fn {key, value} ->
        find_invalid(value, [path, "[", inspect(key), "]"], rw)
      end)
    else
      find_in_list(term, path, 0, rw)
    end
  end

  defp find_invalid(%Ref{}, _path, _rw), do: nil

  defp find_invalid(%MapSet{map: map} = set, path, rw) when is_map(map),
    do: find_in_list(MapSet.to_list(set), path, 0, rw)

  defp find_invalid(%{__struct__: @slice} = slice, path, rw) do
    Enum.find_value([:start, :stop, :step], fn field ->
      find_invalid(Map.fetch!(slice, field), [path, ".", Atom.to_string(field)], rw)
    end)
  end

  defp find_invalid(%struct{}, _path, _rw) when struct in @passthrough, do: nil
  defp find_invalid(%Shm{}, _path, true), do: nil

  defp find_invalid(%struct{} = value, path, _rw) do
    invalid(path, value, "#{inspect(struct)} does not implement the SnakeBridge.Encoder protocol")
  end

  defp find_invalid(%{__struct__: name} = map, path, _rw) do
    invalid(
      path,
      map,
      "a map whose :__struct__ is #{inspect(name)} is not a struct, and cannot be sent"
    )
  end

  defp find_invalid(map, path, rw) when is_map(map) do
    case colliding_key(map) do
      nil ->
        Enum.find_value(map, fn {key, value} ->
          find_invalid(key, [path, "(key)"], rw) ||
            find_invalid(value, [path, "[", inspect(key), "]"], rw)
        end)

      key ->
        invalid(
          path,
          map,
          "keys #{inspect(key)} and #{inspect(Atom.to_string(key))} collide in Python"
        )
    end
  end

  defp find_invalid(tuple, path, rw) when is_tuple(tuple),
    do: find_in_list(Tuple.to_list(tuple), path, 0, rw)

  defp find_invalid(term, path, _rw) do
    cond do
      is_pid(term) ->
        invalid(path, term, "a pid has no Python form")

      is_port(term) ->
        invalid(path, term, "a port has no Python form")

      is_reference(term) ->
        invalid(path, term, "a reference has no Python form")

      is_bitstring(term) and not is_binary(term) ->
        invalid(path, term, "a bitstring that is not whole bytes")

      true ->
        nil
    end
  end

  defp find_in_list([head | tail], path, index, rw) do
    find_invalid(head, [path, "[", Integer.to_string(index), "]"], rw) ||
      find_in_list(tail, path, index + 1, rw)
  end

  defp find_in_list([], _path, _index, _rw), do: nil

  defp find_in_list(improper, path, _index, _rw) do
    invalid(path, improper, "an improper list has no Python form")
  end

  defp invalid(path, value, reason),
    do: %EncodeError{path: IO.iodata_to_binary(path), value: value, reason: reason}

  # An atom key and a string key with the same text become the same Python str key
  # (except the atoms that become None, booleans and float specials).
  defp colliding_key(map) do
    Enum.find_value(map, fn
      {key, _} when is_atom(key) and key not in @not_str ->
        if Map.has_key?(map, Atom.to_string(key)), do: key

      _ ->
        nil
    end)
  end

  defp malformed_ref(ref) do
    %RefError{
      reason: :unknown,
      message: "not a ref SnakeBridge issued: #{inspect(ref, structs: false)}"
    }
  end

  defp cross_worker(a, b) do
    %RefError{
      reason: :cross_worker,
      message:
        "one call mixes refs held by two workers (#{inspect(a)} and #{inspect(b)}); " <>
          "a Python object can only be passed to calls on the worker that holds it"
    }
  end
end
