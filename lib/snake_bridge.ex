defmodule SnakeBridge do
  # One file over the ~450-line mark on purpose: this is the public API, the one module
  # users call, and most of it is the functions' docs and doctests. Every function here
  # only checks its arguments and hands over to SnakeBridge.Call and its neighbours.
  @external_resource "README.md"
  @moduledoc "README.md"
             |> File.read!()
             |> String.split("<!-- MDOC -->")
             |> Enum.fetch!(1)

  # `apply/4` is this module's own: calling a Python callable.
  import Kernel, except: [apply: 2, apply: 3]

  alias SnakeBridge.{Bytes, Call, Options, Ref, Session, Slice}
  alias SnakeBridge.Call.{Args, Context, Iteration, PoolRequests, RefOps}
  alias SnakeBridge.Pool.{Housekeeping, Sessions, Table}

  @typedoc "A dotted Python module name (`\"os.path\"`) or a ref."
  @type target :: String.t() | Ref.t()
  @typedoc "A Python attribute or function name."
  @type name :: String.t() | atom
  @typedoc "Python keyword arguments."
  @type kwargs :: keyword | %{optional(atom | String.t()) => term}
  @typedoc "Bridge options (see the module doc)."
  @type opts :: keyword
  @typedoc "What a failed call returns."
  @type error ::
          SnakeBridge.PythonError.t()
          | SnakeBridge.EncodeError.t()
          | SnakeBridge.RefError.t()
          | SnakeBridge.TimeoutError.t()
          | SnakeBridge.WorkerCrashError.t()
          | SnakeBridge.OverloadError.t()

  # ------------------------------------------------------------------ calls

  @doc """
  Calls `module.function(*args, **kwargs)`; `module` may also be a ref, which makes
  this a method call.

  ## Examples

      iex> SnakeBridge.call("os.path", "join", ["a", "b"])
      {:ok, "a/b"}

      iex> SnakeBridge.call("builtins", "sorted", [[3, 1, 2]], reverse: true)
      {:ok, [3, 2, 1]}

      iex> {:error, error} = SnakeBridge.call("math", "sqrt", [-1])
      iex> Exception.message(error)
      "ValueError: math domain error"
  """
  @spec call(target, name, list, kwargs, opts) :: {:ok, term} | {:error, error}
  def call(module, function, args \\ [], kwargs \\ [], opts \\ [])

  # The commonest call of all goes first (see SnakeBridge.Call.fast_call/3).
  def call(module, function, args, [], [])
      when is_binary(module) and is_binary(function) and is_list(args) do
    with :general <- Call.fast_call(module, function, args),
         do: request_call(module, function, args, [], [])
  end

  def call(module, function, args, kwargs, opts)
      when (is_binary(module) or is_struct(module, Ref)) and
             (is_binary(function) or is_atom(function)) and is_list(args) and
             (is_list(kwargs) or is_map(kwargs)) and is_list(opts) do
    request_call(module, function, args, kwargs, Options.call!(opts, "SnakeBridge.call/5"))
  end

  def call(module, function, args, kwargs, opts) do
    raise ArgumentError,
          "expected a module name or ref, a function name, an args list, kwargs and opts, " <>
            "got: #{inspect([module, function, args, kwargs, opts])}"
  end

  # Every call's path: inlined, these cost no call each (see bench/call_profile.exs).
  @compile {:inline, request_call: 5, name_text: 1, prepare_target: 1}
  defp request_call(module, function, args, kwargs, opts) do
    with {:ok, target, worker} <- prepare_target(module),
         {:ok, args, worker} <- Args.prepare(args, "args", worker),
         {:ok, kwargs, worker} <- Args.prepare_keywords(kwargs, "kwargs", worker) do
      Call.request(:call, {target, name_text(function), args, kwargs}, worker, opts)
    end
  end

  # Names are binaries or atoms (the guards say so): no String.Chars dispatch needed.
  defp name_text(name) when is_binary(name), do: name
  defp name_text(name), do: Atom.to_string(name)

  # A module name needs no scan; a ref says which worker holds it. (Call.request marks
  # a call's module name on the wire; an attribute's target is marked here.)
  defp prepare_target(module) when is_binary(module), do: {:ok, module, nil}
  defp prepare_target(ref), do: Args.prepare(ref, "module")

  defp object_target(module) when is_binary(module), do: {:ok, Args.module_name(module), nil}
  defp object_target(ref), do: Args.prepare(ref, "target")

  @doc "Like `call/5`, but returns the value or raises the error."
  @spec call!(target, name, list, kwargs, opts) :: term
  def call!(module, function, args \\ [], kwargs \\ [], opts \\ []),
    do: unwrap!(call(module, function, args, kwargs, opts))

  @doc """
  Calls the Python callable behind `callable_ref`: `callable(*args, **kwargs)`.

  Any callable: a class (which makes an instance), a function, a bound method, a
  `functools.partial`, a sympy `lambdify` result, a scipy spline, a namedtuple type.
  Options as for `call/5`.

  ## Examples

      iex> {:ok, partial} = SnakeBridge.call("functools", "partial", [SnakeBridge.attr!("builtins", "int")], base: 2)
      iex> SnakeBridge.apply(partial, ["101"])
      {:ok, 5}

      iex> point = SnakeBridge.call!("collections", "namedtuple", ["Point", ["x", "y"]])
      iex> SnakeBridge.apply!(point, [1], y: 2) |> SnakeBridge.attr!("y")
      2
  """
  @spec apply(Ref.t(), list, kwargs, opts) :: {:ok, term} | {:error, error}
  def apply(callable_ref, args \\ [], kwargs \\ [], opts \\ [])

  def apply(%Ref{} = callable_ref, args, kwargs, opts)
      when is_list(args) and (is_list(kwargs) or is_map(kwargs)) and is_list(opts) do
    opts = Options.call!(opts, "SnakeBridge.apply/4")
    # Through `__call__`, which every callable has (a class's is its metaclass's).
    request_call(callable_ref, "__call__", args, kwargs, opts)
  end

  def apply(callable_ref, args, kwargs, opts) do
    raise ArgumentError,
          "expected a callable ref, an args list, kwargs and opts, " <>
            "got: #{inspect([callable_ref, args, kwargs, opts])}"
  end

  @doc "Like `apply/4`, but returns the value or raises the error."
  @spec apply!(Ref.t(), list, kwargs, opts) :: term
  def apply!(callable_ref, args \\ [], kwargs \\ [], opts \\ []),
    do: unwrap!(apply(callable_ref, args, kwargs, opts))

  @doc """
  Calls the method `name` of the object behind `ref`.

      iex> {:ok, path} = SnakeBridge.call("pathlib", "PurePosixPath", ["/tmp/a.txt"])
      iex> SnakeBridge.method(path, "with_suffix", [".csv"]) |> elem(1) |> to_string()
      "/tmp/a.csv"
  """
  @spec method(Ref.t(), name, list, kwargs, opts) :: {:ok, term} | {:error, error}
  def method(%Ref{} = ref, name, args \\ [], kwargs \\ [], opts \\ []),
    do: call(ref, name, args, kwargs, opts)

  @doc "Like `method/5`, but returns the value or raises the error."
  @spec method!(Ref.t(), name, list, kwargs, opts) :: term
  def method!(%Ref{} = ref, name, args \\ [], kwargs \\ [], opts \\ []),
    do: unwrap!(call(ref, name, args, kwargs, opts))

  @doc """
  Reads an attribute of a module (`attr("math", "pi")`) or of an object.

      iex> SnakeBridge.attr("math", "pi")
      {:ok, 3.141592653589793}
  """
  @spec attr(target, name, opts) :: {:ok, term} | {:error, error}
  def attr(module_or_ref, name, opts \\ [])
      when (is_binary(module_or_ref) or is_struct(module_or_ref, Ref)) and
             (is_binary(name) or is_atom(name)) and is_list(opts) do
    opts = Options.call!(opts, "SnakeBridge.attr/3")

    with {:ok, target, worker} <- object_target(module_or_ref) do
      Call.request(:getattr, {target, name_text(name)}, worker, opts)
    end
  end

  @doc "Like `attr/3`, but returns the value or raises the error."
  @spec attr!(target, name, opts) :: term
  def attr!(module_or_ref, name, opts \\ []), do: unwrap!(attr(module_or_ref, name, opts))

  @doc "Sets an attribute of the object (or module) behind `target`."
  @spec set_attr(target, name, term) :: :ok | {:error, error}
  def set_attr(target, name, value)
      when (is_binary(target) or is_struct(target, Ref)) and (is_binary(name) or is_atom(name)) do
    with {:ok, target, worker} <- object_target(target),
         {:ok, value, worker} <- Args.prepare(value, "value", worker),
         {:ok, nil} <- Call.request(:setattr, {target, name_text(name), value}, worker, []) do
      :ok
    end
  end

  @doc """
  Reads `obj[key]`. With `Access`, `ref[key]` does the same and reads a Python
  `KeyError`/`IndexError` as a missing key.
  """
  @spec get_item(Ref.t(), term, opts) :: {:ok, term} | {:error, error}
  def get_item(%Ref{} = ref, key, opts \\ []) when is_list(opts),
    do: RefOps.request(:getitem, ref, [key], Options.call!(opts, "SnakeBridge.get_item/3"))

  @doc "Like `get_item/3`, but returns the value or raises the error."
  @spec get_item!(Ref.t(), term, opts) :: term
  def get_item!(%Ref{} = ref, key, opts \\ []), do: unwrap!(get_item(ref, key, opts))

  @doc "Sets `obj[key] = value`."
  @spec set_item(Ref.t(), term, term) :: :ok | {:error, error}
  def set_item(%Ref{} = ref, key, value) do
    with {:ok, nil} <- RefOps.request(:setitem, ref, [key, value], []), do: :ok
  end

  @doc """
  Runs Python statements in a fresh namespace whose globals are `bindings`, and
  returns the value of the final expression statement (nil if there is none).

      iex> SnakeBridge.eval("x = a * 2\\nx + 1", %{a: 20})
      {:ok, 41}

      iex> SnakeBridge.eval("import asyncio\\nasync def f():\\n    await asyncio.sleep(0.01)\\n    return 5\\nf()")
      {:ok, 5}

  A coroutine result is awaited on the worker's event loop.

  The code compiles as a plain module would (no `__future__` import leaks in), in a
  fresh module of its own named `snakebridge_eval_<n>` (its `__name__`). If the code
  defines classes or functions at its top level, that module stays in `sys.modules`
  for the worker's life, as a script's would, so pickle finds them and pydantic and
  dataclasses resolve their annotations; otherwise it is dropped with the call.
  """
  @spec eval(String.t(), map | keyword, opts) :: {:ok, term} | {:error, error}
  def eval(code, bindings \\ %{}, opts \\ [])
      when is_binary(code) and (is_map(bindings) or is_list(bindings)) and is_list(opts) do
    opts = Options.call!(opts, "SnakeBridge.eval/3")

    with {:ok, bindings, worker} <- Args.prepare_keywords(bindings, "bindings", nil) do
      Call.request(:eval, {code, bindings}, worker, opts)
    end
  end

  @doc "Like `eval/3`, but returns the value or raises the error."
  @spec eval!(String.t(), map | keyword, opts) :: term
  def eval!(code, bindings \\ %{}, opts \\ []), do: unwrap!(eval(code, bindings, opts))

  @doc """
  Converts a ref, or refs anywhere inside a term, to Elixir data where a natural
  conversion exists: a Mapping becomes a map, any other sequence a list, an ndarray
  nested lists, a numpy or pandas scalar a number, a buffer `SnakeBridge.Bytes`.
  What has no natural conversion stays a ref.

      iex> {:ok, counter} = SnakeBridge.call("collections", "Counter", ["aab"])
      iex> SnakeBridge.to_elixir(counter)
      {:ok, %{"a" => 2, "b" => 1}}
  """
  @spec to_elixir(term) :: {:ok, term} | {:error, error}
  def to_elixir(value) do
    case Args.prepare(value, "value") do
      {:ok, value, nil} -> {:ok, value}
      {:ok, value, worker} -> Call.request(:to_elixir, {value}, worker, return: :value)
      {:error, error} -> {:error, error}
    end
  end

  @doc "Like `to_elixir/1`, but returns the value or raises the error."
  @spec to_elixir!(term) :: term
  def to_elixir!(value), do: unwrap!(to_elixir(value))

  # ------------------------------------------------------------------ helpers

  @doc """
  Wraps a binary so that it crosses as Python `bytes` even if it is valid UTF-8.

      iex> SnakeBridge.call("builtins", "type", [SnakeBridge.bytes("abc")]) |> elem(1) |> Map.get(:type)
      "type"
  """
  @spec bytes(binary) :: Bytes.t()
  def bytes(binary) when is_binary(binary), do: %Bytes{data: binary}

  @doc """
  A Python slice, `start:stop:step`, to index with: alone, or inside a tuple for
  numpy's and pandas' multi-axis indexing. `nil` leaves a bound out, as in Python, and
  `stop` is exclusive. See `SnakeBridge.Slice` (and why Elixir ranges are not slices).

  ## Examples

      iex> SnakeBridge.slice(1, nil)
      %SnakeBridge.Slice{start: 1, stop: nil, step: nil}

      iex> grid = SnakeBridge.eval!("import numpy as np\\nnp.arange(12).reshape(3, 4)")
      iex> grid[{SnakeBridge.slice(nil, nil), 1}] |> SnakeBridge.to_elixir!()
      [1, 5, 9]
      iex> SnakeBridge.get_item!(grid, {SnakeBridge.slice(nil, nil, -1), SnakeBridge.slice(0, 2)}) |> SnakeBridge.to_elixir!()
      [[8, 9], [4, 5], [0, 1]]
  """
  @spec slice(term, term, term) :: Slice.t()
  def slice(start, stop, step \\ nil), do: %Slice{start: start, stop: stop, step: step}

  @doc """
  Is `term` a ref?

      iex> SnakeBridge.ref?(1)
      false
  """
  @spec ref?(term) :: boolean
  def ref?(term), do: is_struct(term, Ref)

  @doc """
  Frees the Python object behind `ref` now, for its whole session. Idempotent; always
  `:ok`.

  One object is one ref within a session, so every copy of `ref` (the same object
  returned by other calls, in any process using the session) is released with it and
  then gives `SnakeBridge.RefError` with reason `:released`. Refs to the object in other
  sessions are not affected.
  """
  @spec release(Ref.t()) :: :ok
  def release(%Ref{id: id} = ref) do
    Housekeeping.release_refs(ref, [id])
    :ok
  end

  # ------------------------------------------------------------------ idioms

  @doc """
  A lazy `Stream` over any Python iterable; items are pulled in batches.

  Each batch is one round trip; the worker never runs an iterator more than one batch
  ahead of the consumer. Halting early closes a generator (its `finally` blocks run);
  other iterators, such as files, stay open, and the items of the last batch that the
  consumer did not take are dropped (use `batch: 1` to resume exactly where you
  stopped). An exception raised by the iterator is raised as `SnakeBridge.PythonError`
  after the items yielded before it. Enumerating a ref directly is `stream(ref)`.

  A batch ends right after an item that is not plain data (an object that comes back
  as a ref, or a container holding one), so an iterator is never advanced past such an
  item before the consumer has taken it: `itertools.groupby`'s groups, a cursor's row
  objects and `tarfile` members are read while they are current. Plain data, and the
  items of built-in containers, keep full batches. See docs/IDIOMS.md.

  ## Options

    * `:batch` — items per round trip; default `:auto`, which starts at 32 and grows
      fourfold per batch up to 8192.

  ## Examples

      iex> {:ok, count} = SnakeBridge.call("itertools", "count", [1])
      iex> count |> SnakeBridge.stream(batch: 10) |> Stream.map(&(&1 * &1)) |> Enum.take(3)
      [1, 4, 9]
  """
  @spec stream(Ref.t(), keyword) :: Enumerable.t()
  def stream(%Ref{} = ref, opts \\ []) when is_list(opts), do: Iteration.stream(ref, opts)

  @doc """
  Runs `fun` inside a Python `with` block on the context manager behind `ref`.

  Calls `__enter__` (or awaits `__aenter__`), passes what it returned to `fun`, and
  always calls `__exit__`: with `(None, None, None)` when `fun` returns; with the
  original Python exception when `fun` raises a `SnakeBridge.PythonError` from a call
  on the same worker (so `contextlib.suppress(KeyError)` works); and with a
  `snakebridge.ElixirError` carrying the Elixir error when `fun` raises anything else,
  throws or exits. The raise, throw or exit then continues unchanged. Returns `fun`'s
  value.

  If `__exit__` returns true it suppresses the error, as in Python, and `with_python`
  returns `nil`. If `__exit__` itself raises, that `SnakeBridge.PythonError` is raised
  (its traceback shows the Elixir error it replaced). If the process is killed inside
  the block, `__exit__` runs when its session is cleaned up. See docs/IDIOMS.md.

  ## Examples

      iex> {:ok, lock} = SnakeBridge.call("threading", "Lock")
      iex> SnakeBridge.with_python(lock, fn _ -> SnakeBridge.method!(lock, "locked") end)
      true
      iex> SnakeBridge.method!(lock, "locked")
      false
  """
  @spec with_python(Ref.t(), (term -> result)) :: result | nil when result: term
  def with_python(%Ref{} = ref, fun) when is_function(fun, 1), do: Context.with_python(ref, fun)

  # ------------------------------------------------------------------ sessions

  @doc """
  Runs `fun` in a fresh session and releases everything created in it when `fun`
  returns or raises. Returns `fun`'s value.

  Calls in `fun` use the fresh session; the calling process's own session is current
  again afterwards. If the process is killed inside `fun`, the session is released
  with the process's other sessions.

  ## Options

    * `:pool` — the pool the session belongs to (default `:default`).

  ## Examples

      iex> ref = SnakeBridge.session(fn -> SnakeBridge.eval!("object()") end)
      iex> {:error, %SnakeBridge.RefError{reason: :released}} = SnakeBridge.call(ref, "__repr__")
  """
  @spec session((() -> result), keyword) :: result when result: term
  def session(fun, opts \\ []) when is_function(fun, 0) and is_list(opts) do
    pool = pool_option!(opts, "SnakeBridge.session/2")
    session = Session.new(pool, nil)
    previous = Process.get({Session, pool})
    Session.put_current(session)

    try do
      fun.()
    after
      Session.restore_current(pool, previous)
      release_session(session)
    end
  end

  @doc """
  Opens a session owned by the calling process, to share between processes: pass it
  to `use_session/2` in each. It is released by `release_session/1`, or when the
  owner exits.

  ## Options

    * `:pool` — the pool whose worker will hold the session (default `:default`).
  """
  @spec open_session(keyword) :: {:ok, Session.t()}
  def open_session(opts \\ []) when is_list(opts) do
    {:ok, Session.new(pool_option!(opts, "SnakeBridge.open_session/1"), nil)}
  end

  defp pool_option!(opts, where) do
    Options.validate!(opts, [:pool], where)

    case Keyword.get(opts, :pool, :default) do
      pool when is_atom(pool) ->
        pool

      other ->
        raise ArgumentError, "expected :pool to be a pool name (an atom), got: #{inspect(other)}"
    end
  end

  @doc """
  Runs `fun` with `session`, opened by another process with `open_session/1`, as the
  calling process's current session on the session's pool; returns `fun`'s value.

  Refs created in `fun` belong to `session` and live until it is released, whatever
  the calling process does. Once another process has released `session`, calls in
  `fun` give `SnakeBridge.RefError` with reason `:released`.
  """
  @spec use_session(Session.t(), (() -> result)) :: result when result: term
  def use_session(%Session{pool: pool} = session, fun) when is_function(fun, 0) do
    Sessions.uses(Session.caller_id(), pool)
    previous = Session.put_shared(session)

    try do
      fun.()
    after
      Session.restore_current(pool, previous)
    end
  end

  @doc """
  Releases a whole session: its open `with_python/2` blocks are exited, then all its
  refs are freed. Without an argument, the calling process's current default-pool
  session. Returns `:ok`.
  """
  @spec release_session(Session.t() | nil) :: :ok
  def release_session(session \\ nil)

  def release_session(nil) do
    case Process.delete({Session, :default}) do
      nil -> :ok
      {:shared, session} -> release_session(session)
      session -> release_session(session)
    end
  end

  def release_session(%Session{} = session) do
    Session.forget(session)
    Sessions.disown(session)
    PoolRequests.release_session(session)
    :ok
  end

  @add_python_path """
  import importlib, sys
  if path not in sys.path:
      sys.path.insert(0, path)
  importlib.invalidate_caches()
  """

  @doc """
  Puts the directory `path` in front of `sys.path` on every worker of a running pool,
  so that modules in it can be imported without restarting anything. Returns `:ok`.

  `path` is expanded against the current directory. Workers started later, such as
  the replacement of a crashed worker, start with it too, for as long as the pool
  runs; a path already there keeps its place. Modules already imported are not
  affected: see `reload_module/2`.

  ## Options

    * `:pool` — the pool (default `:default`).

  ## Examples

      iex> dir = Path.join(System.tmp_dir!(), "snakebridge_doc_path")
      iex> File.mkdir_p!(dir)
      iex> File.write!(Path.join(dir, "doc_greeter.py"), "def hello(name):\\n    return 'hello ' + name\\n")
      iex> SnakeBridge.add_python_path(dir)
      :ok
      iex> SnakeBridge.call("doc_greeter", "hello", ["snake"])
      {:ok, "hello snake"}
  """
  @spec add_python_path(Path.t(), keyword) :: :ok | {:error, error}
  def add_python_path(path, opts \\ []) when is_binary(path) and is_list(opts) do
    pool = pool_option!(opts, "SnakeBridge.add_python_path/2")
    path = Path.expand(path)
    :ok = Table.add_python_path(pool, path)
    PoolRequests.eval_everywhere(pool, @add_python_path, %{"path" => path})
  end

  @reload_module """
  import importlib, sys
  importlib.invalidate_caches()
  if name in sys.modules:
      importlib.reload(sys.modules[name])
  """

  @doc """
  Reloads the Python module `name` (`importlib.reload`) on every worker of a pool
  that has imported it, to pick up a change to its source while the app runs. Workers
  that have not imported it will load the new source when they do. Returns `:ok`, or
  the first worker's error (a `SyntaxError` in the new source, say).

  Python's caveats of `importlib.reload` hold: objects made before the reload keep
  their old classes and functions, and names other modules took from it with
  `from module import name` keep the old values until those modules are reloaded too.

  ## Options

    * `:pool` — the pool (default `:default`).
  """
  @spec reload_module(String.t(), keyword) :: :ok | {:error, error}
  def reload_module(name, opts \\ []) when is_binary(name) and is_list(opts) do
    pool = pool_option!(opts, "SnakeBridge.reload_module/2")
    PoolRequests.eval_everywhere(pool, @reload_module, %{"name" => name})
  end

  @doc """
  Live figures of a pool: `:workers`, `:sessions`, `:refs` (live refs), `:queued`
  (requests waiting behind a busy worker), and per worker in `:per_worker` its refs,
  sessions, pending calls, OS pid, RSS in bytes, and `:python_blocks`, the memory
  blocks Python's allocator has live (`sys.getallocatedblocks()`: what a leak of
  Python objects grows, while RSS also keeps the allocator's high-water mark).
  """
  @spec stats(atom) :: map
  def stats(pool \\ :default) when is_atom(pool), do: PoolRequests.stats(pool)

  defp unwrap!({:ok, value}), do: value
  defp unwrap!({:error, error}), do: raise(error)
end
