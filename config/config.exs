import Config

# SnakeBridge reads everything at runtime with defaults (see SnakeBridge moduledoc,
# "Configuration"); the test environment only keeps calls fast to time out.
if config_env() == :test do
  config :snakebridge, timeout: 30_000
end
