from .cli import demo

demo()
