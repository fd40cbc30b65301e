# The engine's texts in English: times, passwords, invitations, how a session ended, the network.
# Every message has its twin in es.ftl, with the same placeholders (a test checks).

## Times
unit-seconds = { $n ->
    [one] 1 second
   *[other] { $n } seconds
}
unit-minutes = { $n ->
    [one] 1 minute
   *[other] { $n } minutes
}
unit-hours = { $n ->
    [one] 1 hour
   *[other] { $n } hours
}
unit-days = { $n ->
    [one] 1 day
   *[other] { $n } days
}
duration-pair = { $first } { $second }
relative-now = just now
relative-future = in { $span }
relative-past = { $span } ago
date-unknown = { $at } seconds after 1970

## Passwords
password-too-short = the password has { $n ->
    [one] 1 character
   *[other] { $n } characters
}; use at least { $min }
password-missing-letter = the password needs letters, digits and a special character (such as ! # % or -); it has no letter
password-missing-digit = the password needs letters, digits and a special character (such as ! # % or -); it has no digit
password-missing-special = the password needs letters, digits and a special character (such as ! # % or -); it has no special character
password-guessable = the password is too easy to guess{ $hint }; add unrelated words or use --generate-password
password-mismatch = the two passwords differ; type the same password twice
zxcvbn-straight-rows = straight rows of keys are easy to guess
zxcvbn-keyboard-patterns = short keyboard patterns are easy to guess
zxcvbn-repeats = repeats like "aaa" are easy to guess
zxcvbn-repeated-words = repeats like "abcabcabc" are only slightly harder to guess than "abc"
zxcvbn-top10 = this is a top-10 common password
zxcvbn-top100 = this is a top-100 common password
zxcvbn-common = this is a very common password
zxcvbn-similar = this is similar to a commonly used password
zxcvbn-sequences = sequences like abc or 6543 are easy to guess
zxcvbn-recent-years = recent years are easy to guess
zxcvbn-word = a word by itself is easy to guess
zxcvbn-dates = dates are often easy to guess
zxcvbn-names = names and surnames by themselves are easy to guess
zxcvbn-common-names = common names and surnames are easy to guess

## Invitations
invite-not-one = this is not a Beckon invitation: { $reason }
invite-field = the invitation's { $field } is invalid: { $reason }
invite-version = the invitation is version { $version }, this Beckon reads version { $supported }: update Beckon
invite-too-large = { $bytes } bytes is too large
invite-string-too-long = the string is too long
invite-damaged = the text after beckon: is damaged (was it copied whole?)
invite-extra = extra data after the invitation
invite-id = 8 to 64 letters, digits or dashes expected
invite-expires-early = not after the creation time
invite-expires-late = more than 30 days after the creation time
invite-salt = 32 hexadecimal digits expected
invite-memory = 16 MiB to 256 MiB expected
invite-passes = 1 to 8 expected
invite-lanes = 1 to 4 expected
invite-address-count = 1 to { $max } addresses expected
invite-relay-count = at most { $max } relays
invite-relay-key = a relay's key is not 40 hexadecimal digits
invite-not-address = { $text } is not an address and port
invite-no-port = { $text } has no port
invite-fingerprint = 64 hexadecimal digits (colons allowed) expected
invite-from = a name of 1 to { $max } printable characters expected
invite-message-long = longer than { $max } characters
invite-message-invisible = control or invisible characters (only line breaks may be in a message)

## How a session ended
close-locked-now = wrong password: the invitation is now locked; ask the sharer for a new one
close-wrong-password = wrong password ({ $left ->
    [one] 1 attempt
   *[other] { $left } attempts
} left): check it with the sharer
close-expired = the invitation has expired: ask the sharer for a new one
close-deleted = the sharer deleted this invitation
close-locked = the invitation is locked after too many wrong passwords: ask the sharer for a new one
close-in-use = another helper is already connected with this invitation
close-used = this invitation was already used: ask the sharer for a new one
close-changed = this invitation was changed after it was made: ask the sharer to send it again
close-unknown = the sharer's computer does not know this invitation
close-refused = the sharer did not allow the connection
close-not-authentic = the other side could not prove it holds this invitation: do not trust this connection
close-timed-out = the other side stopped answering
close-sharer-left = the sharer disconnected
close-helper-left = the helper disconnected
close-version = the other side speaks protocol version { $theirs }, this one { $ours }: update both
close-protocol = protocol error: { $detail }
close-screen = the sharer's screen could not be shared: { $detail }

## The network
net-bind = cannot open UDP port { $addr }: { $why }
relay-silent = the relay { $server } does not answer: it is down, or a firewall blocks UDP to it
relay-refused = the relay { $server } refused Beckon's login: the relay's secret in agent.toml differs from the relay's own, or the invitation has expired
relay-no-permission = the relay { $server } would not let the other computer's traffic through
relay-unknown = this computer holds no address on the relay { $server }
net-unreachable = no answer from { $addr }: the sharer's computer is off, unreachable, or a firewall drops UDP port { $port } (on the sharer's side, `beckon-agent doctor` checks)
net-wrong-certificate = the computer at { $addr } is not the one the invitation names (certificate mismatch): do not continue
net-connect = cannot connect: { $why }
net-failed = the connection failed: { $why }
net-no-control = the helper's side opened no control stream in time
net-read = the control stream broke: { $why }
net-write = writing the control stream failed: { $why }
net-framing = the other side sent a malformed message: { $why }
net-tls = TLS set-up failed: { $why }
net-certificate = the agent's certificate could not be made: { $why }
net-no-exporter = the connection offers no keying material to bind the session to
no-home = no home directory: set HOME (or give the folder on the command line)
