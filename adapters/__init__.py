"""Platform adapters. Only here may platform libraries (telegram, discord, websockets…) be imported.

Each adapter is a package ``adapters/<name>/`` whose ``__init__`` exports ``CONFIG_MODEL`` (a
subclass of ``bot.adapter.AdapterConfig``) and ``build(name, config, env) -> Adapter``. The app
imports an adapter package only when a config section names its type.
"""
