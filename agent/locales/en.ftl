# The sharer's side of Beckon, in English. Every message here has its twin in es.ftl, with the
# same placeholders (a test checks).

## The questions and the status line (the window and the terminal)
ask-connection = { $helper } wants to connect to your computer.
ask-control = { $helper } would like to share control of your computer.
ask-allow = Allow?
ask-continue = Continue sharing your screen with { $helper }?
ask-continue-unanswered = If nobody answers, the helper is disconnected.
status-waiting = Waiting for a helper to connect.
status-connecting = { $helper } is connecting.
status-viewing = { $helper } is viewing your screen.
status-controlling = { $helper } has control: press Esc to stop.

## The sharer's window: Ask for help
ask-title = Invite someone you trust to help you
ask-name = Your name
ask-name-hint = as the helper will see it
ask-message = What do you need help with?
ask-expiry = The invitation expires after
ask-expiry-advice = One hour or less is safest; at most { $most } is allowed.
ask-expiry-recommended = { $span } (recommended)
ask-password = Password
ask-password-again = The same password again
ask-show-password = Show the password
ask-generate = Generate a password
ask-how = How should the invitation reach your helper?
ask-how-email = By e-mail: Beckon sends it
ask-how-code = As a code to paste into any chat program
ask-how-file = As a file to pass on another way
ask-code-explained = The code is copied for you: paste it into your chat with the helper.
ask-create-email = Create and send the invitation
ask-create-code = Create the invitation and copy the code
ask-create-file = Create and save the invitation
ask-to = Your helper's e-mail address
ask-earlier-helpers = Earlier helpers:
ask-need-name = Write your name: the helper sees who is asking.
ask-need-to = Write your helper's e-mail address, such as grace@example.org.
ask-need-smtp = Fill in the e-mail settings first: your address and your mail server.
strength-empty = Choose a password of at least { $min } characters, or let Beckon make one.
strength-good = Strong: a good password.
strength-again = Type the same password again in the second field.
strength-short = Too short: { $n ->
    [one] 1 character
   *[other] { $n } characters
} of the { $min } needed.
strength-no-letter = Add a letter: a password needs letters, digits and a special character such as ! # % or -.
strength-no-digit = Add a digit: a password needs letters, digits and a special character such as ! # % or -.
strength-no-special = Add a special character such as ! # % or -: a password needs letters, digits and one of those.
strength-guessable = Too easy to guess{ $hint }. Add unrelated words, or press Generate a password.
strength-mismatch = The two passwords differ: type the same password twice.
generated-intro = The password for this invitation (write it down; the helper needs it):
generated-copy = Copy the password
generated-dismiss = I have noted it
smtp-title = E-mail settings
smtp-from = Your e-mail address
smtp-host = Mail server (SMTP)
smtp-port = Port
smtp-user = User name
smtp-password = Password
smtp-security = Security
smtp-security-none = None
smtp-ca = Also trusting the certificate authority in { $file }.
smtp-none-local = No encryption is allowed only for a mail relay on this computer.
smtp-save = Save settings
smtp-test = Send a test e-mail
smtp-test-sent = A test e-mail went to { $to }: check your inbox.
smtp-test-failed = The test e-mail failed: { $why }.
smtp-no-place = There is no place for the settings: set HOME or XDG_CONFIG_HOME.
smtp-saved = Saved in { $file } (only you can read it).
smtp-saved-log = E-mail settings saved to { $file }.
file-folder = Folder
file-desktop = Desktop
file-documents = Documents
file-home = Home
file-name = File name
file-need-name = Write a file name, such as invitation.beckon.
file-no-folder = There is no folder { $folder }: choose another.
file-exists = { $file } already exists: choose another name.
sent-title = Your invitation is on its way
sent-code = The code is copied: paste it into your chat with the helper (Ctrl+V).
sent-failed-title = The invitation was made but not delivered
sent-failed-next = Fix the cause, then press Resend in Invitation status: the invitation and its password stay as they are.
sent-copy-again = Copy the code again
sent-expires = Invitation { $id } expires at { $at } ({ $when }).
sent-password-reminder = Now give your helper the password by phone or in person: never in the same message as the invitation.
sent-another = Invite someone else
log-created = Invitation { $id } created; it expires at { $at }.
log-not-delivered = Invitation { $id } was not delivered: { $why }.

## The sharer's window: Invitation status
status-none = No invitations yet: Ask for help makes one.
status-which = invitation { $id }, { $how }
status-emailed = e-mailed to { $to }
status-saved = saved as { $file }
status-code = a code to paste
status-times = Made { $made } ({ $made_when }); expires { $expires } ({ $expires_when }).
status-times-past = Made { $made } ({ $made_when }); expired { $expires } ({ $expires_when }).
status-helper = Helper: { $helper }
status-no-helper = No helper has connected
status-activity = { $helper }; { $attempts ->
    [one] 1 wrong password
   *[other] { $attempts } wrong passwords
}; last activity { $last }.
status-expire = Expire
status-resend = Resend
status-delete = Delete
status-cancel = Cancel
status-expire-ask = Expire invitation { $id }? Nobody can use it afterwards.
status-expire-yes = Yes, expire it
status-resend-ask = Send invitation { $id } again, the same way as before?
status-resend-yes = Yes, send it again
status-delete-ask = Delete invitation { $id }? Nobody can use it afterwards, and it leaves this list.
status-delete-yes = Yes, delete it
status-expired = Invitation { $id } expired: it can no longer be used.
status-deleted = Invitation { $id } deleted: it can no longer be used.
status-code-again = The code of invitation { $id } is copied again: paste it into your chat with the helper.
status-resent = Invitation { $id } sent again. { $said }
status-not-resent = Invitation { $id } was not sent: { $why }
state-open = Open
state-used = Used
state-expired = Expired
state-locked = Locked after too many wrong passwords
state-deleted = Deleted

## The sharer's window: titles, pages, the session
title-sharing = Beckon: sharing your screen
title-home = Beckon: ask for help
window-failed-console = cannot show the sharer's window ({ $why }): use --console to answer on the terminal
window-failed = cannot show the sharer's window ({ $why })
tab-ask = Ask for help
tab-invitations = Invitation status
tab-session = Session
home-idle = No invitation is open: ask for help to let a helper connect.
home-getting-ready = Getting ready for your helper.
home-waiting = Waiting for your helper on UDP { $address }: { $open ->
    [one] 1 open invitation
   *[other] { $open } open invitations
}.
home-closing = No invitation is open: helpers can no longer connect.
home-connected = Your helper is connected: see Session.
home-cannot-serve = Helpers cannot connect: { $why }.
home-cannot-serve-log = Cannot wait for helpers: { $why }.
home-stopped-log = No open invitation: no longer waiting for helpers.
home-serving-crashed = serving stopped unexpectedly
yes = Yes
no = No
session-stop-control = Stop control (Esc)
session-show = Show your helper:
session-show-all = All monitors
session-disconnect = Disconnect
session-clipboard = Share copy and paste while the helper has control
session-chat = Chat
session-chat-hint = Type a message and press Enter
session-send = Send
session-listening = Listening on UDP { $address }; { $open ->
    [one] 1 open invitation
   *[other] { $open } open invitations
}.

## The invitation e-mail
email-subject = { $from } asks for your help (Beckon remote assistance)
email-intro = { $from } is asking for your help with Beckon remote assistance.
email-writes = { $from } writes:
email-steps =
    The invitation is attached ({ $attachment }). It expires at { $expires } ({ $validity } after it was made).

    To help:
    1. Check with { $from } (by phone or in person) that they really sent this.
    2. Save the attachment and double-click it: Beckon's helper window opens. (Or run: beckon-viewer { $attachment })
    3. Enter the password { $from } gives you. It is not in this e-mail, on purpose.

    { $from } will be asked to allow your connection before you see anything.
email-bad-from = { $address } is not an e-mail address (--smtp-from)
email-bad-address = { $address } is not an e-mail address
email-test-no-from = fill in your e-mail address first
email-test-subject = Beckon test e-mail
email-test-body = Beckon can send e-mail with these settings: invitations will reach your helpers.
smtp-refused = { $host } did not take the e-mail: { $why }
smtp-not-smtp = { $host } did not answer as an SMTP server
smtp-none = no SMTP server: set [smtp] host in agent.toml or give --smtp-host (or write the message with --eml FILE and send it yourself)
smtp-none-remote = --smtp-security none sends your SMTP password and the invitation unencrypted: it is only allowed for a relay on this computer
smtp-no-pem = { $file } holds no PEM certificate
smtp-no-password = --smtp-user is set but BECKON_SMTP_PASSWORD is not
config-invalid = { $file } is not a valid agent.toml

## Invitations, the store and private files
duration-invalid = { $text } is not a duration like 30m, 1h or 2d
expiry-too-short = an invitation must stay valid for at least a minute
expiry-too-long = an invitation may stay valid for at most { $most }, not { $asked }
invitation-unreadable = the invitation would not be readable
no-sender = no sender address: set [smtp] from in agent.toml or give --smtp-from
delivered-file = Saved to { $file }.
delivered-email = E-mailed to { $to }.
delivered-eml = The e-mail to { $to } is in { $file }: send it with your mail program.
delivered-code = Paste the beckon: code into your chat with the helper.
file-stem = Beckon invitation
file-stem-from = Beckon invitation from { $from }
private-owner = { $file } belongs to another user (uid { $uid }), and holds your secrets: run `{ $command }` as that user or root, then try again
private-writable = { $file } can be changed by other users (mode { $mode }), and it holds your secrets: run `{ $command }`, then try again
private-readable = { $file } can be read by other users (mode { $mode }), and it holds your secrets: run `{ $command }`, then try again
store-damaged = the stored credential of invitation { $id } is damaged: delete it and make a new one
store-unparsable = a stored invitation does not parse
store-no-such = no invitation { $id }: `beckon-agent invitations` lists them
store-ambiguous = { $n } invitations start with { $id }: give more of the id
book-unknown = { $given } is not an e-mail address, and no address in the book starts with it (`beckon-agent helpers` lists them)
book-ambiguous = { $given } could be any of { $known }: give more of it
clipboard-failed = cannot open the clipboard
x11-no-display = cannot open the X display
x11-no-extension = the X server has no { $extension } extension
wayland-no-display = cannot reach the Wayland compositor (WAYLAND_DISPLAY)
wayland-no-screencopy = this Wayland compositor does not let programs copy the screen (wlr-screencopy): sway and other wlroots compositors do; on GNOME or KDE, share through the desktop's portal (share --portal; Beckon's window does so by itself)
wayland-no-virtual-pointer = this Wayland compositor does not let a helper move the pointer (the virtual pointer protocol)
wayland-no-virtual-keyboard = this Wayland compositor does not let a helper type (the virtual keyboard protocol)
portal-no-bus = cannot reach the desktop's session bus ({ $why }): log in to a desktop session, or share from an X11 session
portal-no-screencast = this desktop offers no screen sharing portal (xdg-desktop-portal with ScreenCast): install xdg-desktop-portal and your desktop's portal (xdg-desktop-portal-gnome, -kde or -wlr), or log in to an X11 session
portal-cancelled = you did not allow sharing your screen in the desktop's window: share again and choose Share (or Allow) there
portal-unanswered = the desktop's window asking to share your screen was not answered in time: share again and answer it
portal-failed = the desktop could not start sharing the screen ({ $what }): try again, or log in to an X11 session
portal-no-streams = the desktop shared no monitor: share again and choose at least one monitor
portal-closed = the desktop stopped sharing your screen: share again to go on
portal-no-input = this desktop does not let a helper type or move the pointer (no RemoteDesktop portal, or you did not allow it): your helper can watch and chat, but not take control
portal-no-shortcuts = this desktop offers no global shortcuts (the GlobalShortcuts portal)
portal-shortcut = End the Beckon helper's control

## beckon-agent on the command line
cli-password-stdin = reading the password from standard input
cli-password-required = a password is required: use --generate-password, or --password-stdin for scripts
cli-password-prompt = Password for this invitation:
cli-password-again = The same password again:
cli-no-delivery = say how the invitation reaches the helper: --email ADDRESS (sent by e-mail), --string (a code to paste into any chat program) or --save FILE (a file to pass on)
cli-expires-short = an invitation must stay valid for at least a minute (--expires { $expires })
cli-expires-long = --expires { $expires } is longer than the { $most } allowed (--max-expiry, and [policy] max_expiry in agent.toml)
cli-bad-text = { $why } (--from and --message)
cli-created = Invitation { $id } created; it expires in { $span }, at { $at }.
cli-generated = Password (shown once): { $password }
cli-not-delivered = invitation { $id } is saved but was not delivered; fix the cause, then `beckon-agent resend { $id }`
cli-password-reminder = Give the helper the password by another way than the invitation (phone, in person).
cli-no-invitations = No invitations yet: `beckon-agent invite --from NAME --save FILE` makes one.
cli-not-open = invitation { $id } is { $state }: make a new one with `beckon-agent invite`
cli-last-invited = last invited { $at }
cli-state-open = open
cli-state-used = used
cli-state-expired = expired
cli-state-locked = locked
cli-state-deleted = deleted
column-id = id
column-state = state
column-created = created
column-expires = expires
column-attempts = attempts
column-activity = last activity
column-helper = helper
column-to = to

## Serving (share, and the window's session)
share-no-desktop = the sharer's window needs a desktop (DISPLAY is not set); on a terminal, use `beckon-agent invite` and `beckon-agent share --x11 --console`
share-input-printed = (input from the helper: { $event })
share-input-failed = The helper's input cannot reach the screen: { $why }.
share-audit-failed = Could not write "{ $event }" to the audit log: { $why }.
share-yes-no = [y/N]
share-no-display = No display to show the sharer's window on: asking on this terminal.
share-no-clipboard = Copy and paste will not be shared: { $why }.
share-waiting = Waiting for helpers on UDP { $address } (certificate { $fingerprint }); { $open ->
    [one] 1 open invitation
   *[other] { $open } open invitations
}.
share-attempt-failed = A connection attempt failed: { $why }.
share-connection-failed = A helper's connection failed: { $why }.
share-nobody = (no helper is connected)
share-allowed-by-yes = { $helper } is connecting (allowed by --yes).
share-locked = Invitation { $id } is now locked after { $attempts } wrong passwords: nobody can use it. Make a new one if you still need help.
share-viewing = The helper sees your screen. Type q and Enter to disconnect.
share-control-ended = Control ended.
share-chat = helper: { $text }
share-continue-unanswered = Nobody answered "Continue sharing?": disconnecting { $helper }.
share-turned-away = A helper was turned away: { $reason }.
share-abandoned = A connection ended before proving the password: { $reason }.
share-over = Session over: { $reason }.
share-you = You

## beckon-agent doctor
doctor-ok = ok
doctor-note = note
doctor-problem = PROBLEM
doctor-bind-ok = UDP { $address } can be bound
doctor-bind-in-use = UDP { $address } is in use: fine if `beckon-agent share` runs; otherwise stop what holds it or use --listen with another port
doctor-bind-failed = UDP { $address } cannot be bound: { $why }
doctor-bind-fix = use --listen with an address of this computer and a port above 1023
doctor-smtp-none = no SMTP server set: invitations go by file or string
doctor-smtp-ok = SMTP: { $host } answers and accepts the login
doctor-smtp-failed = SMTP: { $why }
doctor-smtp-fix = check [smtp] in agent.toml and BECKON_SMTP_PASSWORD
doctor-all-well = All is well: a helper who can reach this computer's address can connect.
doctor-problems = { $n ->
    [one] 1 problem
   *[other] { $n } problems
}: see above.
doctor-no-display = no X display ({ $name }): `share --x11` needs one (on sway and other wlroots desktops `share --wayland` needs none); `share --clip` works without
doctor-display-ok = X display { $name } opens
doctor-need-damage = to see what changed
doctor-need-xfixes = for the pointer
doctor-need-xtest = for the helper's input
doctor-need-xinput = for the sharer's Esc
doctor-need-randr = to follow screen size changes
doctor-need-shm = for fast capture (GetImage is used without it)
doctor-extension-ok = X extension { $extension }
doctor-extension-optional = X extension { $extension } missing: { $needed }
doctor-extension-missing = X extension { $extension } missing: needed { $needed }
doctor-extension-fix = use an X server that has it (Xorg and Xvfb do)
doctor-nft-policy = nftables: chain { $table } { $chain } drops everything it does not accept
doctor-ufw = ufw is active and does not allow { $port }/udp
doctor-firewall-ok = no local firewall rule drops UDP port { $port }
doctor-firewall-unread = could not read the firewall (nft, iptables, ufw: missing, or not root)
doctor-rule-drops = { $rule } (drops UDP port { $port })
doctor-rule-fix = allow it: { $fix }
doctor-selftest-skipped = reachability self-test skipped: it needs root and `ip` (iproute2)
doctor-selftest-no-namespace = could not set up the test namespace
doctor-selftest-in-use = cannot listen on { $address } to test ({ $why }): the port is in use
doctor-selftest-not-sent = the test datagram could not be sent
doctor-selftest-other = something else answered
doctor-selftest-lost = the test datagram never arrived
doctor-selftest-note = reachability self-test: { $why }
doctor-reachable = UDP port { $port } is reachable from another network (a namespace on this computer)
doctor-unreachable = UDP port { $port } is not reachable from another network: { $why }
doctor-unreachable-fix = a firewall drops it: see the rules above

## Files and the rest
io-reading = reading { $file }
io-writing = writing { $file }
io-creating = creating { $file }
io-opening = opening { $file }
x11-input-failed = could not apply the helper's input: { $why }
x11-no-keycode = no spare keycode for key symbol { $keysym }
smtp-settings-unwritable = writing the SMTP settings
smtp-tls-failed = setting up TLS for SMTP
email-unbuildable = building the e-mail
delivery-damaged = a damaged delivery record
x11-no-monitors = there is no monitor { $wanted }: this X server lists no monitors (RandR 1.5); share the whole screen
x11-no-such-monitor = there is no monitor { $wanted }; the monitors are: { $known }
doctor-monitors = monitors (`share --monitor N` shares one): { $monitors }
doctor-primary = , primary
doctor-no-monitors = this X server lists no monitors (RandR 1.5): the whole screen is shared
doctor-wayland = this is a Wayland session whose compositor does not let Beckon copy the screen, and it has no screen-sharing portal: a helper would see the X11 (XWayland) windows and nothing else
doctor-wayland-fix = install xdg-desktop-portal and your desktop's portal (xdg-desktop-portal-gnome, -kde or -wlr) and PipeWire, or log in to an X11 session ("GNOME on Xorg", "Plasma (X11)")
doctor-wayland-unreachable = this is a Wayland session, but its compositor does not answer: { $why }
doctor-wayland-capture = Wayland session: this compositor lets Beckon copy the screen (wlr-screencopy)
doctor-wayland-input = Wayland: a helper given control can move the pointer and type (virtual pointer and keyboard)
doctor-wayland-no-input = Wayland: this compositor does not let a helper move the pointer or type: they can watch, not take control
doctor-wayland-input-fix = use a compositor with the virtual pointer and keyboard protocols (sway, Hyprland, river), or an X11 session
doctor-wayland-esc = sway: Esc ends the helper's control (Beckon binds it while they have control)
doctor-wayland-no-esc = on this Wayland compositor Esc cannot end the helper's control: "Stop control" in Beckon's window does
doctor-portal-capture = Wayland session: the desktop's portal lets Beckon share the screen (ScreenCast and PipeWire); the desktop asks you once which monitors
doctor-portal-pipewire-fix = install PipeWire (the pipewire package), or log in to an X11 session
doctor-portal-input = Wayland: a helper given control can move the pointer and type (the RemoteDesktop portal; the desktop asks you first)
doctor-portal-no-input = Wayland: this desktop's portal does not let a helper move the pointer or type (no RemoteDesktop portal): they can watch, not take control
doctor-portal-esc = Wayland: Esc ends the helper's control (a global shortcut the desktop's portal keeps for Beckon)
share-wayland = This is a Wayland session, and Beckon shares its X11 side: your helper sees only X11 (XWayland) windows. On sway and other wlroots desktops, share with --wayland; on GNOME or KDE, share with --portal (Beckon's window picks the right one by itself).
share-wayland-no-esc = On this Wayland desktop Esc cannot end your helper's control: click "Stop control" in the Beckon window, or give a key of your desktop the command `beckon-agent stop-control`.
share-wayland-esc-failed = Esc could not be set to end control ({ $why }): click "Stop control" in the Beckon window instead.
stop-no-runtime-dir = this session has no runtime directory (XDG_RUNTIME_DIR), where Beckon would listen
stop-not-serving = Beckon is not sharing your screen now
stop-ended = Your helper's control has ended.
stop-nobody = Your helper does not have control.
share-showing-one = Your helper now sees one monitor: { $monitor }.
share-showing-all = Your helper now sees all your monitors.
relay-no-secret = [relay] in agent.toml names relays but no secret: add secret = "..." (the relays' static-auth-secret)
relay-no-address = the relay { $server } in agent.toml has no IPv4 address: check its name
relay-not-serving = No relay address yet: the invitation names only this computer's own addresses. Start sharing first (`beckon-agent share`, or an open invitation in the window), then make the invitation, so a helper behind another network can reach you through the relay.
share-relayed = Reachable from anywhere through the relay { $server } (relayed address { $address }).
doctor-relay-none = No relay is set: a helper on another network reaches this computer only if UDP port { $port } is forwarded to it on the router. To be reachable from anywhere, set [relay] in agent.toml (see the README).
doctor-relay-fix = Check the relay's address and secret in agent.toml ([relay]) with whoever runs it, and that UDP to it is allowed.
doctor-relay-failed = The relay { $server } does not work: { $why }
doctor-relay-ok = The relay { $server } answers and gives this computer an address ({ $address }).
doctor-relay-no-mapping = the relay did not say which address it sees
doctor-nat-none = No router translates this computer's address (no NAT): helpers can reach it straight, if the firewall lets them.
doctor-nat-cone-strict = This computer is behind a router (NAT) that keeps one port for every destination and lets in only answers, as most home routers do.
doctor-nat-cone-open = This computer is behind a router (NAT) that keeps one port for every destination and lets in datagrams from anywhere it has sent to.
doctor-nat-symmetric = This computer is behind a router (NAT) that uses a new port for every destination (a symmetric NAT): no direct path can be made through it.
doctor-path-direct = A helper will connect directly.
doctor-path-punch = A helper will connect through the relay, then move to a direct path within seconds if their own router allows it; if not, the session stays on the relay.
doctor-path-relay = A helper on another network will connect through the relay, which carries the whole session.
share-resumed = { $helper } is back after the network cut the session: it goes on as you left it.
