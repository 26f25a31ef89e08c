"""What an operator sets: environment settings, the TOML policy and its field types, durations,
and the template renderer. Imports nothing else from bot.
"""
