# The helper's side of Beckon, in English. Every message here has its twin in es.ftl, with the
# same placeholders (a test checks).

## The window: the connect dialog
title = Beckon: helping
window-failed = cannot show the viewer's window ({ $why }); `beckon-viewer open` works without one
dialog-title = Help someone
dialog-intro = Open the invitation you were sent (its file, or the beckon: text).
dialog-invitation = Invitation:
dialog-invitation-hint = path/to/invitation.beckon or beckon:…
dialog-not-invitation = Not an invitation: { $why }
dialog-from = From:
dialog-message = Message:
dialog-expires = Expires:
dialog-expired = expired: ask for a new invitation
dialog-check = Check with { $from } (by phone, say) that they really sent it; they give you the password.
dialog-password = Password:
dialog-show = Show
dialog-name = Your name:
dialog-name-hint = as the sharer will see it
dialog-try-again = Try again
dialog-connect = Connect
dialog-expired-ask = The invitation has expired: ask { $from } for a new one.
dialog-default-name = Helper

## The window: the session
clipboard-unshared = Copy and paste will not be shared: { $why }.
clipboard-put-failed = Could not put the sharer's text on the clipboard: { $why }.
notice-control = You now have control. Press Esc to give it back.
notice-control-denied = { $sharer } did not allow control.
notice-gave-back = You gave control back.
notice-taken-back = { $sharer } took control back.
notice-showing-one = { $sharer } now shows you one monitor: { $monitor }.
notice-showing-all = { $sharer } now shows you all their monitors.
notice-asking-control = Waiting for { $sharer } to allow control…
toolbar-release = Release control (Esc)
toolbar-take-control = Take Control
toolbar-disconnect = Disconnect
toolbar-actual-size = Actual size
toolbar-fit = Fit to window
toolbar-chat = Chat
toolbar-chat-unread = Chat ({ $n } new)
toolbar-stats = round trip { $rtt } ms · { $kbps } kbit/s · { $fps } updates/s · shown { $present } ms after arrival
standing-connecting = Connecting…
standing-waiting = Waiting for { $sharer } to allow the connection…
standing-viewing = Viewing { $sharer }'s screen.
standing-controlling = Controlling { $sharer }'s screen: Esc gives control back.
chat-hint = Message, then Enter
chat-you = You
screen-waiting = The sharer's screen shows here once they allow the connection.
screen-fitted = The sharer's screen is larger than the window: shown fitted.
link-cannot-start = Cannot start: { $why }.
link-bad-stretch = The invitation's password settings are not usable: { $why }.
link-stretch-failed = Stretching the password failed: { $why }.
link-no-socket = Cannot open a UDP socket: { $why }.
link-ended = The session ended.
link-you-disconnected = You disconnected.
link-sharer-disconnected = The sharer disconnected.
connect-reading = reading invitation { $file }
connect-no-address = the invitation lists no address

## beckon-viewer open, and the desktop entry
open-from = Invitation from { $from }: { $message }
open-expires = It expires in { $span }. Check with { $from } that they really sent it.
open-expired = the invitation has expired: ask { $from } for a new one
open-password-prompt = Password:
open-password-required = a password is required: type it at the prompt, or use --password-stdin
open-connected = Connected. Waiting for { $sharer } to allow the connection.
open-viewing = You can see the sharer's screen.
open-asking-control = Asking for control.
open-control = You have control.
open-control-denied = The sharer did not allow control.
open-control-ended = Control ended.
open-chat = sharer: { $text }
open-shown = shown
open-hidden = hidden
open-pointer = The sharer's pointer ({ $size }, { $shown }) was last at { $at }.
open-saved = Saved what was shown to { $file }.
open-disconnected-helper = Disconnected by the helper.
open-disconnected-sharer = Disconnected by the sharer.
open-no-reason = the session ended without a reason
open-bad-at = --at { $at } is not X,Y
desktop-wrote = Wrote { $entry } and { $package }.
desktop-ran = Ran { $tool }.
desktop-tool-failed = { $tool } failed; the entry is written all the same.
desktop-tool-missing = { $tool } is not installed; the desktop may need a log-out to notice.
io-writing = writing { $file }
io-creating = creating { $file }
