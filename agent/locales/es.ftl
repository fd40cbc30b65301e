# La parte de Beckon de quien pide ayuda, en español. Cada mensaje tiene su gemelo en en.ftl, con
# los mismos marcadores (una prueba lo comprueba).

## Las preguntas y la línea de estado (la ventana y la terminal)
ask-connection = { $helper } quiere conectarse a tu equipo.
ask-control = { $helper } quiere compartir el control de tu equipo.
ask-allow = ¿Lo permites?
ask-continue = ¿Sigues compartiendo tu pantalla con { $helper }?
ask-continue-unanswered = Si nadie responde, se desconecta a quien te ayuda.
status-waiting = Esperando a que se conecte quien te ayuda.
status-connecting = { $helper } se está conectando.
status-viewing = { $helper } está viendo tu pantalla.
status-controlling = { $helper } tiene el control: pulsa Esc para detenerlo.

## La ventana de quien pide ayuda: Pedir ayuda
ask-title = Invita a alguien de confianza a ayudarte
ask-name = Tu nombre
ask-name-hint = como lo verá quien te ayude
ask-message = ¿Con qué necesitas ayuda?
ask-expiry = La invitación caduca tras
ask-expiry-advice = Una hora o menos es lo más seguro; se permite como mucho { $most }.
ask-expiry-recommended = { $span } (recomendado)
ask-password = Contraseña
ask-password-again = La misma contraseña otra vez
ask-show-password = Mostrar la contraseña
ask-generate = Generar una contraseña
ask-how = ¿Cómo debe llegar la invitación a quien te ayuda?
ask-how-email = Por correo electrónico: Beckon la envía
ask-how-code = Como un código para pegar en cualquier programa de chat
ask-how-file = Como un archivo para hacerlo llegar de otra forma
ask-code-explained = El código se copia por ti: pégalo en tu chat con quien te ayuda.
ask-create-email = Crear y enviar la invitación
ask-create-code = Crear la invitación y copiar el código
ask-create-file = Crear y guardar la invitación
ask-to = Correo electrónico de quien te ayuda
ask-earlier-helpers = Personas que ya te ayudaron:
ask-need-name = Escribe tu nombre: quien te ayude verá quién lo pide.
ask-need-to = Escribe el correo electrónico de quien te ayuda, como grace@example.org.
ask-need-smtp = Rellena antes los ajustes de correo: tu dirección y tu servidor de correo.
strength-empty = Elige una contraseña de al menos { $min } caracteres, o deja que Beckon cree una.
strength-good = Segura: una buena contraseña.
strength-again = Escribe la misma contraseña otra vez en el segundo campo.
strength-short = Demasiado corta: { $n ->
    [one] 1 carácter
   *[other] { $n } caracteres
} de los { $min } necesarios.
strength-no-letter = Añade una letra: una contraseña necesita letras, cifras y un carácter especial como ! # % o -.
strength-no-digit = Añade una cifra: una contraseña necesita letras, cifras y un carácter especial como ! # % o -.
strength-no-special = Añade un carácter especial como ! # % o -: una contraseña necesita letras, cifras y uno de ellos.
strength-guessable = Demasiado fácil de adivinar{ $hint }. Añade palabras sin relación, o pulsa Generar una contraseña.
strength-mismatch = Las dos contraseñas no coinciden: escribe la misma contraseña dos veces.
generated-intro = La contraseña de esta invitación (apúntala; quien te ayude la necesita):
generated-copy = Copiar la contraseña
generated-dismiss = Ya la he apuntado
smtp-title = Ajustes de correo electrónico
smtp-from = Tu correo electrónico
smtp-host = Servidor de correo (SMTP)
smtp-port = Puerto
smtp-user = Usuario
smtp-password = Contraseña
smtp-security = Seguridad
smtp-security-none = Ninguna
smtp-ca = También se confía en la autoridad de certificación de { $file }.
smtp-none-local = Sin cifrado solo se permite un servidor de correo en este mismo equipo.
smtp-save = Guardar los ajustes
smtp-test = Enviar un correo de prueba
smtp-test-sent = Se envió un correo de prueba a { $to }: mira tu bandeja de entrada.
smtp-test-failed = El correo de prueba falló: { $why }.
smtp-no-place = No hay dónde guardar los ajustes: define HOME o XDG_CONFIG_HOME.
smtp-saved = Guardado en { $file } (solo tú puedes leerlo).
smtp-saved-log = Ajustes de correo guardados en { $file }.
file-folder = Carpeta
file-desktop = Escritorio
file-documents = Documentos
file-home = Carpeta personal
file-name = Nombre del archivo
file-need-name = Escribe un nombre de archivo, como invitacion.beckon.
file-no-folder = No existe la carpeta { $folder }: elige otra.
file-exists = { $file } ya existe: elige otro nombre.
sent-title = Tu invitación va de camino
sent-code = El código está copiado: pégalo en tu chat con quien te ayuda (Ctrl+V).
sent-failed-title = La invitación se creó pero no se entregó
sent-failed-next = Corrige la causa y pulsa Reenviar en Estado de las invitaciones: la invitación y su contraseña no cambian.
sent-copy-again = Copiar el código otra vez
sent-expires = La invitación { $id } caduca el { $at } ({ $when }).
sent-password-reminder = Ahora da la contraseña a quien te ayuda por teléfono o en persona: nunca en el mismo mensaje que la invitación.
sent-another = Invitar a otra persona
log-created = Invitación { $id } creada; caduca el { $at }.
log-not-delivered = La invitación { $id } no se entregó: { $why }.

## La ventana de quien pide ayuda: Estado de las invitaciones
status-none = Aún no hay invitaciones: Pedir ayuda crea una.
status-which = invitación { $id }, { $how }
status-emailed = enviada por correo a { $to }
status-saved = guardada como { $file }
status-code = un código para pegar
status-times = Creada el { $made } ({ $made_when }); caduca el { $expires } ({ $expires_when }).
status-times-past = Creada el { $made } ({ $made_when }); caducó el { $expires } ({ $expires_when }).
status-helper = Quien ayuda: { $helper }
status-no-helper = Nadie se ha conectado
status-activity = { $helper }; { $attempts ->
    [one] 1 contraseña incorrecta
   *[other] { $attempts } contraseñas incorrectas
}; última actividad { $last }.
status-expire = Caducar
status-resend = Reenviar
status-delete = Borrar
status-cancel = Cancelar
status-expire-ask = ¿Caducar la invitación { $id }? Nadie podrá usarla después.
status-expire-yes = Sí, caducarla
status-resend-ask = ¿Enviar otra vez la invitación { $id }, igual que antes?
status-resend-yes = Sí, enviarla otra vez
status-delete-ask = ¿Borrar la invitación { $id }? Nadie podrá usarla después, y desaparece de esta lista.
status-delete-yes = Sí, borrarla
status-expired = La invitación { $id } ha caducado: ya no se puede usar.
status-deleted = La invitación { $id } está borrada: ya no se puede usar.
status-code-again = El código de la invitación { $id } está copiado otra vez: pégalo en tu chat con quien te ayuda.
status-resent = La invitación { $id } se envió otra vez. { $said }
status-not-resent = La invitación { $id } no se envió: { $why }
state-open = Abierta
state-used = Usada
state-expired = Caducada
state-locked = Bloqueada tras demasiadas contraseñas incorrectas
state-deleted = Borrada

## La ventana de quien pide ayuda: títulos, páginas, la sesión
title-sharing = Beckon: compartiendo tu pantalla
title-home = Beckon: pedir ayuda
window-failed-console = no se puede mostrar la ventana ({ $why }): usa --console para responder en la terminal
window-failed = no se puede mostrar la ventana ({ $why })
tab-ask = Pedir ayuda
tab-invitations = Estado de las invitaciones
tab-session = Sesión
home-idle = No hay ninguna invitación abierta: pide ayuda para que alguien pueda conectarse.
home-getting-ready = Preparando la llegada de quien te ayuda.
home-waiting = Esperando a quien te ayuda en UDP { $address }: { $open ->
    [one] 1 invitación abierta
   *[other] { $open } invitaciones abiertas
}.
home-closing = No hay ninguna invitación abierta: ya nadie puede conectarse.
home-connected = Quien te ayuda está conectado: mira Sesión.
home-cannot-serve = Nadie puede conectarse: { $why }.
home-cannot-serve-log = No se puede esperar a quien ayuda: { $why }.
home-stopped-log = No hay invitaciones abiertas: ya no se espera a nadie.
home-serving-crashed = el servicio se detuvo de forma inesperada
yes = Sí
no = No
session-stop-control = Quitar el control (Esc)
session-show = Mostrar a quien te ayuda:
session-show-all = Todos los monitores
session-disconnect = Desconectar
session-clipboard = Compartir copiar y pegar mientras quien te ayuda tiene el control
session-chat = Chat
session-chat-hint = Escribe un mensaje y pulsa Intro
session-send = Enviar
session-listening = Escuchando en UDP { $address }; { $open ->
    [one] 1 invitación abierta
   *[other] { $open } invitaciones abiertas
}.

## El correo de la invitación
email-subject = { $from } te pide ayuda (asistencia remota Beckon)
email-intro = { $from } te pide ayuda con la asistencia remota Beckon.
email-writes = { $from } escribe:
email-steps =
    La invitación va adjunta ({ $attachment }). Caduca el { $expires } ({ $validity } después de crearla).

    Para ayudar:
    1. Comprueba con { $from } (por teléfono o en persona) que de verdad la envió.
    2. Guarda el adjunto y haz doble clic en él: se abre la ventana de Beckon para ayudar. (O ejecuta: beckon-viewer { $attachment })
    3. Escribe la contraseña que te dé { $from }. No está en este correo, a propósito.

    { $from } tendrá que permitir tu conexión antes de que veas nada.
email-bad-from = { $address } no es una dirección de correo (--smtp-from)
email-bad-address = { $address } no es una dirección de correo
email-test-no-from = rellena antes tu dirección de correo
email-test-subject = Correo de prueba de Beckon
email-test-body = Beckon puede enviar correo con estos ajustes: las invitaciones llegarán a quienes te ayudan.
smtp-refused = { $host } no aceptó el correo: { $why }
smtp-not-smtp = { $host } no respondió como un servidor SMTP
smtp-none = no hay servidor SMTP: define host en [smtp] de agent.toml o usa --smtp-host (o escribe el mensaje con --eml ARCHIVO y envíalo tú)
smtp-none-remote = --smtp-security none envía tu contraseña SMTP y la invitación sin cifrar: solo se permite con un servidor de correo en este mismo equipo
smtp-no-pem = { $file } no contiene ningún certificado PEM
smtp-no-password = --smtp-user está definido pero BECKON_SMTP_PASSWORD no
config-invalid = { $file } no es un agent.toml válido

## Invitaciones, el almacén y los archivos privados
duration-invalid = { $text } no es una duración como 30m, 1h o 2d
expiry-too-short = una invitación debe valer al menos un minuto
expiry-too-long = una invitación puede valer como mucho { $most }, no { $asked }
invitation-unreadable = la invitación no se podría leer
no-sender = no hay dirección de remitente: define from en [smtp] de agent.toml o usa --smtp-from
delivered-file = Guardada en { $file }.
delivered-email = Enviada por correo a { $to }.
delivered-eml = El correo para { $to } está en { $file }: envíalo con tu programa de correo.
delivered-code = Pega el código beckon: en tu chat con quien te ayuda.
file-stem = Invitación de Beckon
file-stem-from = Invitación de Beckon de { $from }
private-owner = { $file } pertenece a otro usuario (uid { $uid }) y guarda tus secretos: ejecuta `{ $command }` como ese usuario o como root y vuelve a intentarlo
private-writable = otros usuarios pueden modificar { $file } (modo { $mode }) y guarda tus secretos: ejecuta `{ $command }` y vuelve a intentarlo
private-readable = otros usuarios pueden leer { $file } (modo { $mode }) y guarda tus secretos: ejecuta `{ $command }` y vuelve a intentarlo
store-damaged = la credencial guardada de la invitación { $id } está dañada: bórrala y crea una nueva
store-unparsable = una invitación guardada no se puede leer
store-no-such = no hay ninguna invitación { $id }: `beckon-agent invitations` las lista
store-ambiguous = { $n } invitaciones empiezan por { $id }: da más caracteres del identificador
book-unknown = { $given } no es una dirección de correo, y ninguna dirección de la libreta empieza así (`beckon-agent helpers` las lista)
book-ambiguous = { $given } puede ser cualquiera de { $known }: da más caracteres
clipboard-failed = no se puede abrir el portapapeles
x11-no-display = no se puede abrir la pantalla X
x11-no-extension = el servidor X no tiene la extensión { $extension }
wayland-no-display = no se puede llegar al compositor Wayland (WAYLAND_DISPLAY)
wayland-no-screencopy = este compositor Wayland no deja a los programas copiar la pantalla (wlr-screencopy): sway y los demás compositores wlroots sí; en GNOME o KDE, comparte con el portal del escritorio (share --portal; la ventana de Beckon lo hace sola)
wayland-no-virtual-pointer = este compositor Wayland no deja que quien te ayuda mueva el puntero (el protocolo de puntero virtual)
wayland-no-virtual-keyboard = este compositor Wayland no deja que quien te ayuda escriba (el protocolo de teclado virtual)
portal-no-bus = no se puede llegar al bus de sesión del escritorio ({ $why }): inicia una sesión de escritorio, o comparte desde una sesión X11
portal-no-screencast = este escritorio no ofrece el portal para compartir la pantalla (xdg-desktop-portal con ScreenCast): instala xdg-desktop-portal y el portal de tu escritorio (xdg-desktop-portal-gnome, -kde o -wlr), o inicia una sesión X11
portal-cancelled = no permitiste compartir tu pantalla en la ventana del escritorio: vuelve a compartir y elige Compartir (o Permitir) allí
portal-unanswered = nadie respondió a tiempo a la ventana del escritorio que pide compartir tu pantalla: vuelve a compartir y respóndela
portal-failed = el escritorio no pudo empezar a compartir la pantalla ({ $what }): inténtalo de nuevo, o inicia una sesión X11
portal-no-streams = el escritorio no compartió ningún monitor: vuelve a compartir y elige al menos uno
portal-closed = el escritorio dejó de compartir tu pantalla: vuelve a compartir para seguir
portal-no-input = este escritorio no deja a quien te ayuda escribir ni mover el puntero (no hay portal RemoteDesktop, o no lo permitiste): puede mirar y chatear, pero no tomar el control
portal-no-shortcuts = este escritorio no ofrece atajos globales (el portal GlobalShortcuts)
portal-shortcut = Quitar el control a quien te ayuda con Beckon

## beckon-agent en la línea de órdenes
cli-password-stdin = leyendo la contraseña de la entrada estándar
cli-password-required = hace falta una contraseña: usa --generate-password, o --password-stdin en scripts
cli-password-prompt = Contraseña de esta invitación:
cli-password-again = La misma contraseña otra vez:
cli-no-delivery = indica cómo llega la invitación a quien te ayuda: --email DIRECCIÓN (por correo), --string (un código para pegar en cualquier programa de chat) o --save ARCHIVO (un archivo para hacerlo llegar)
cli-expires-short = una invitación debe valer al menos un minuto (--expires { $expires })
cli-expires-long = --expires { $expires } supera el máximo permitido de { $most } (--max-expiry, y max_expiry en [policy] de agent.toml)
cli-bad-text = { $why } (--from y --message)
cli-created = Invitación { $id } creada; caduca dentro de { $span }, el { $at }.
cli-generated = Contraseña (se muestra una sola vez): { $password }
cli-not-delivered = la invitación { $id } está guardada pero no se entregó; corrige la causa y ejecuta `beckon-agent resend { $id }`
cli-password-reminder = Da la contraseña a quien te ayuda por otra vía que la invitación (teléfono, en persona).
cli-no-invitations = Aún no hay invitaciones: `beckon-agent invite --from NOMBRE --save ARCHIVO` crea una.
cli-not-open = la invitación { $id } está { $state }: crea una nueva con `beckon-agent invite`
cli-last-invited = última invitación el { $at }
cli-state-open = abierta
cli-state-used = usada
cli-state-expired = caducada
cli-state-locked = bloqueada
cli-state-deleted = borrada
column-id = id
column-state = estado
column-created = creada
column-expires = caduca
column-attempts = intentos
column-activity = última actividad
column-helper = quien ayuda
column-to = destino

## El servicio (share, y la sesión de la ventana)
share-no-desktop = la ventana necesita un escritorio (DISPLAY no está definido); en una terminal, usa `beckon-agent invite` y `beckon-agent share --x11 --console`
share-input-printed = (entrada de quien ayuda: { $event })
share-input-failed = La entrada de quien ayuda no llega a la pantalla: { $why }.
share-audit-failed = No se pudo escribir «{ $event }» en el registro de auditoría: { $why }.
share-yes-no = [s/N]
share-no-display = No hay pantalla donde mostrar la ventana: se pregunta en esta terminal.
share-no-clipboard = Copiar y pegar no se compartirá: { $why }.
share-waiting = Esperando a quien ayuda en UDP { $address } (certificado { $fingerprint }); { $open ->
    [one] 1 invitación abierta
   *[other] { $open } invitaciones abiertas
}.
share-attempt-failed = Un intento de conexión falló: { $why }.
share-connection-failed = La conexión de quien ayuda falló: { $why }.
share-nobody = (no hay nadie conectado)
share-allowed-by-yes = { $helper } se está conectando (permitido por --yes).
share-locked = La invitación { $id } queda bloqueada tras { $attempts } contraseñas incorrectas: nadie puede usarla. Crea una nueva si aún necesitas ayuda.
share-viewing = Quien te ayuda ve tu pantalla. Escribe q y pulsa Intro para desconectar.
share-control-ended = El control terminó.
share-chat = quien ayuda: { $text }
share-continue-unanswered = Nadie respondió «¿Sigues compartiendo?»: se desconecta a { $helper }.
share-turned-away = Se rechazó a quien intentaba ayudar: { $reason }.
share-abandoned = Una conexión terminó antes de demostrar la contraseña: { $reason }.
share-over = Sesión terminada: { $reason }.
share-you = Tú

## beckon-agent doctor
doctor-ok = bien
doctor-note = nota
doctor-problem = PROBLEMA
doctor-bind-ok = se puede abrir UDP { $address }
doctor-bind-in-use = UDP { $address } está en uso: bien si `beckon-agent share` está en marcha; si no, detén lo que lo ocupa o usa --listen con otro puerto
doctor-bind-failed = no se puede abrir UDP { $address }: { $why }
doctor-bind-fix = usa --listen con una dirección de este equipo y un puerto por encima de 1023
doctor-smtp-none = no hay servidor SMTP: las invitaciones van por archivo o como código
doctor-smtp-ok = SMTP: { $host } responde y acepta el inicio de sesión
doctor-smtp-failed = SMTP: { $why }
doctor-smtp-fix = revisa [smtp] en agent.toml y BECKON_SMTP_PASSWORD
doctor-all-well = Todo bien: quien ayude y pueda alcanzar la dirección de este equipo podrá conectarse.
doctor-problems = { $n ->
    [one] 1 problema
   *[other] { $n } problemas
}: mira arriba.
doctor-no-display = no hay pantalla X ({ $name }): `share --x11` la necesita (en sway y otros escritorios wlroots `share --wayland` no la necesita); `share --clip` funciona sin ella
doctor-display-ok = la pantalla X { $name } se abre
doctor-need-damage = para ver qué cambió
doctor-need-xfixes = para el puntero
doctor-need-xtest = para la entrada de quien ayuda
doctor-need-xinput = para la tecla Esc de quien comparte
doctor-need-randr = para seguir los cambios de tamaño de la pantalla
doctor-need-shm = para capturar deprisa (sin ella se usa GetImage)
doctor-extension-ok = extensión X { $extension }
doctor-extension-optional = falta la extensión X { $extension }: { $needed }
doctor-extension-missing = falta la extensión X { $extension }: hace falta { $needed }
doctor-extension-fix = usa un servidor X que la tenga (Xorg y Xvfb la tienen)
doctor-nft-policy = nftables: la cadena { $table } { $chain } descarta todo lo que no acepta
doctor-ufw = ufw está activo y no permite { $port }/udp
doctor-firewall-ok = ninguna regla del cortafuegos local descarta el puerto UDP { $port }
doctor-firewall-unread = no se pudo leer el cortafuegos (nft, iptables, ufw: faltan, o no eres root)
doctor-rule-drops = { $rule } (descarta el puerto UDP { $port })
doctor-rule-fix = permítelo: { $fix }
doctor-selftest-skipped = prueba de alcance omitida: necesita root e `ip` (iproute2)
doctor-selftest-no-namespace = no se pudo preparar el espacio de red de prueba
doctor-selftest-in-use = no se puede escuchar en { $address } para la prueba ({ $why }): el puerto está en uso
doctor-selftest-not-sent = no se pudo enviar el datagrama de prueba
doctor-selftest-other = respondió otra cosa
doctor-selftest-lost = el datagrama de prueba nunca llegó
doctor-selftest-note = prueba de alcance: { $why }
doctor-reachable = el puerto UDP { $port } se alcanza desde otra red (un espacio de red de este equipo)
doctor-unreachable = el puerto UDP { $port } no se alcanza desde otra red: { $why }
doctor-unreachable-fix = un cortafuegos lo descarta: mira las reglas de arriba

## Archivos y lo demás
io-reading = leyendo { $file }
io-writing = escribiendo { $file }
io-creating = creando { $file }
io-opening = abriendo { $file }
x11-input-failed = no se pudo aplicar la entrada de quien ayuda: { $why }
x11-no-keycode = no queda ningún código de tecla libre para el símbolo { $keysym }
smtp-settings-unwritable = escribiendo los ajustes SMTP
smtp-tls-failed = preparando TLS para SMTP
email-unbuildable = componiendo el correo
delivery-damaged = un registro de entrega dañado
x11-no-monitors = no hay ningún monitor { $wanted }: este servidor X no lista monitores (RandR 1.5); comparte la pantalla entera
x11-no-such-monitor = no hay ningún monitor { $wanted }; los monitores son: { $known }
doctor-monitors = monitores (`share --monitor N` comparte uno): { $monitors }
doctor-primary = , principal
doctor-no-monitors = este servidor X no lista monitores (RandR 1.5): se comparte la pantalla entera
doctor-wayland = esta es una sesión Wayland cuyo compositor no deja a Beckon copiar la pantalla, y no tiene portal para compartirla: quien ayude vería las ventanas X11 (XWayland) y nada más
doctor-wayland-fix = instala xdg-desktop-portal y el portal de tu escritorio (xdg-desktop-portal-gnome, -kde o -wlr) y PipeWire, o inicia una sesión X11 («GNOME sobre Xorg», «Plasma (X11)»)
doctor-wayland-unreachable = esta es una sesión Wayland, pero su compositor no responde: { $why }
doctor-wayland-capture = sesión Wayland: este compositor deja a Beckon copiar la pantalla (wlr-screencopy)
doctor-wayland-input = Wayland: quien ayude, con el control, puede mover el puntero y escribir (puntero y teclado virtuales)
doctor-wayland-no-input = Wayland: este compositor no deja que quien ayude mueva el puntero o escriba: podrá mirar, no tomar el control
doctor-wayland-input-fix = usa un compositor con los protocolos de puntero y teclado virtuales (sway, Hyprland, river), o una sesión X11
doctor-wayland-esc = sway: Esc quita el control a quien ayuda (Beckon lo asigna mientras tiene el control)
doctor-wayland-no-esc = en este compositor Wayland Esc no puede quitar el control a quien ayuda: «Quitar el control» en la ventana de Beckon sí
doctor-portal-capture = Sesión Wayland: el portal del escritorio deja a Beckon compartir la pantalla (ScreenCast y PipeWire); el escritorio te pregunta una vez qué monitores
doctor-portal-pipewire-fix = instala PipeWire (el paquete pipewire), o inicia una sesión X11
doctor-portal-input = Wayland: quien te ayuda, con el control, puede mover el puntero y escribir (el portal RemoteDesktop; el escritorio te pregunta antes)
doctor-portal-no-input = Wayland: el portal de este escritorio no deja a quien te ayuda mover el puntero ni escribir (no hay portal RemoteDesktop): puede mirar, no tomar el control
doctor-portal-esc = Wayland: Esc quita el control a quien te ayuda (un atajo global que el portal del escritorio guarda para Beckon)
share-wayland = Esta es una sesión Wayland y Beckon comparte su parte X11: quien te ayuda solo ve las ventanas X11 (XWayland). En sway y otros escritorios wlroots, comparte con --wayland; en GNOME o KDE, comparte con --portal (la ventana de Beckon elige sola).
share-wayland-no-esc = En este escritorio Wayland la tecla Esc no puede quitar el control a quien te ayuda: pulsa «Quitar el control» en la ventana de Beckon, o asigna a una tecla de tu escritorio la orden `beckon-agent stop-control`.
share-wayland-esc-failed = No se pudo hacer que Esc quite el control ({ $why }): pulsa «Quitar el control» en la ventana de Beckon.
stop-no-runtime-dir = esta sesión no tiene directorio de ejecución (XDG_RUNTIME_DIR), donde Beckon escucharía
stop-not-serving = Beckon no está compartiendo tu pantalla ahora
stop-ended = Quien te ayuda ya no tiene el control.
stop-nobody = Quien te ayuda no tiene el control.
share-showing-one = Quien te ayuda ahora ve un monitor: { $monitor }.
share-showing-all = Quien te ayuda ahora ve todos tus monitores.
relay-no-secret = [relay] en agent.toml nombra servidores de retransmisión pero no su secreto: añade secret = "..." (el static-auth-secret de los servidores)
relay-no-address = el servidor de retransmisión { $server } de agent.toml no tiene dirección IPv4: revisa el nombre
relay-not-serving = Aún no hay dirección de retransmisión: la invitación solo nombra las direcciones de este equipo. Empieza a compartir primero (`beckon-agent share`, o una invitación abierta en la ventana) y luego haz la invitación, para que te alcance alguien desde otra red a través del servidor de retransmisión.
share-relayed = Se te puede alcanzar desde cualquier sitio a través del servidor de retransmisión { $server } (dirección { $address }).
doctor-relay-none = No hay servidor de retransmisión: alguien desde otra red solo llega a este equipo si el puerto UDP { $port } está redirigido a él en el router. Para que te alcancen desde cualquier sitio, pon [relay] en agent.toml (mira el README).
doctor-relay-fix = Revisa con quien lo gestiona la dirección y el secreto del servidor de retransmisión en agent.toml ([relay]), y que se permita UDP hacia él.
doctor-relay-failed = El servidor de retransmisión { $server } no funciona: { $why }
doctor-relay-ok = El servidor de retransmisión { $server } responde y da a este equipo una dirección ({ $address }).
doctor-relay-no-mapping = el servidor de retransmisión no dijo qué dirección ve
doctor-nat-none = Ningún router traduce la dirección de este equipo (sin NAT): se le puede alcanzar directamente, si el cortafuegos lo permite.
doctor-nat-cone-strict = Este equipo está detrás de un router (NAT) que usa el mismo puerto para cada destino y solo deja entrar respuestas, como la mayoría de los routers domésticos.
doctor-nat-cone-open = Este equipo está detrás de un router (NAT) que usa el mismo puerto para cada destino y deja entrar datagramas de cualquier sitio al que haya enviado.
doctor-nat-symmetric = Este equipo está detrás de un router (NAT) que usa un puerto nuevo para cada destino (un NAT simétrico): no se puede abrir un camino directo a través de él.
doctor-path-direct = Quien te ayude se conectará directamente.
doctor-path-punch = Quien te ayude se conectará a través del servidor de retransmisión y pasará a un camino directo en segundos si su propio router lo permite; si no, la sesión sigue por el servidor.
doctor-path-relay = Quien te ayude desde otra red se conectará a través del servidor de retransmisión, que llevará toda la sesión.
share-resumed = { $helper } ha vuelto tras un corte de la red: la sesión sigue como la dejaste.
