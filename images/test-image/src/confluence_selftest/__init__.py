"""confluence-selftest: a tiny real module for testing the engines, not science.

It does what every module does (resolve its index, read its entry of a fan-out
list in the input volume, write its outputs atomically into a volume) and can
be told to sleep or to fail for one entry, so engine tests can check fan-out,
parallelism, environment passing, failure reporting and that a failed job
leaves no partial file.  Built as ``confluence/selftest`` by
``images/build.sh selftest``.
"""
