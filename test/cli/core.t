# The CLI frame: error codes, exit statuses, JSON.
$ build/imssec strerror --code -21
name=IMSSEC_E_ICV
text=integrity check failed

$ build/imssec strerror --code -21 --json
{
  "name": "IMSSEC_E_ICV",
  "text": "integrity check failed"
}

$ build/imssec strerror --code 7
name=IMSSEC_E_UNKNOWN
text=unknown error

$ build/imssec version | sed -n 1p
version=0.2.0

# bad arguments: exit 2, one line on stderr, nothing on stdout
$ build/imssec no-such-command
? 2

$ build/imssec strerror --nope 1
? 2

$ build/imssec strerror --code
? 2

$ build/imssec strerror --code 1 --code 2
? 2

$ build/imssec strerror --code x1
? 2

$ build/imssec strerror --code x1 2>&1 | wc -l | tr -d ' '
1
