"""Confluence credential renewal (the ``renew`` Lambda and its schedule).

PO.DAAC hands out temporary S3 credentials, valid one hour, for in-region
(us-west-2) access to its SWOT bucket in exchange for an Earthdata Login
(EDL).  This package:

- :mod:`.edl` fetches them from the PO.DAAC ``s3credentials`` endpoint (an
  OAuth redirect through ``urs.earthdata.nasa.gov`` answered with HTTP Basic
  auth, then a cookie back on the archive host, then JSON);
- :mod:`.handler` is the Lambda handler: EDL user and password from SSM
  SecureString parameters in, the four credential values out as SecureString
  parameters under a prefix (contract: ``renew/README.md``);
- :mod:`.creds` reads them back (what datagen and input mirror);
- :mod:`.schedule` enables, disables and reports the EventBridge rule that
  runs the Lambda every 50 minutes; :mod:`.cli` is ``confluence-renew``.

No credential value (password, keys, token) is ever logged or put in an
exception message.
"""

__version__ = "0.1.0"
