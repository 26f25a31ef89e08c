"""What must follow a change: recorded with the change, performed by the worker.
May import every domain package; domain packages record consequences through it.
"""
