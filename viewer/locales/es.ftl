# La parte de Beckon de quien ayuda, en español. Cada mensaje tiene su gemelo en en.ftl, con los
# mismos marcadores (una prueba lo comprueba).

## La ventana: el diálogo de conexión
title = Beckon: ayudando
window-failed = no se puede mostrar la ventana ({ $why }); `beckon-viewer open` funciona sin ella
dialog-title = Ayudar a alguien
dialog-intro = Abre la invitación que te enviaron (su archivo, o el texto beckon:).
dialog-invitation = Invitación:
dialog-invitation-hint = ruta/a/invitacion.beckon o beckon:…
dialog-not-invitation = No es una invitación: { $why }
dialog-from = De:
dialog-message = Mensaje:
dialog-expires = Caduca:
dialog-expired = caducada: pide una invitación nueva
dialog-check = Comprueba con { $from } (por teléfono, por ejemplo) que de verdad la envió; te dará la contraseña.
dialog-password = Contraseña:
dialog-show = Mostrar
dialog-name = Tu nombre:
dialog-name-hint = como lo verá quien comparte
dialog-try-again = Volver a intentarlo
dialog-connect = Conectar
dialog-expired-ask = La invitación ha caducado: pide una nueva a { $from }.
dialog-default-name = Quien ayuda

## La ventana: la sesión
clipboard-unshared = Copiar y pegar no se compartirá: { $why }.
clipboard-put-failed = No se pudo poner el texto de quien comparte en el portapapeles: { $why }.
notice-control = Ahora tienes el control. Pulsa Esc para devolverlo.
notice-control-denied = { $sharer } no permitió el control.
notice-gave-back = Devolviste el control.
notice-taken-back = { $sharer } recuperó el control.
notice-showing-one = { $sharer } ahora te muestra un monitor: { $monitor }.
notice-showing-all = { $sharer } ahora te muestra todos sus monitores.
notice-asking-control = Esperando a que { $sharer } permita el control…
toolbar-release = Devolver el control (Esc)
toolbar-take-control = Tomar el control
toolbar-disconnect = Desconectar
toolbar-actual-size = Tamaño real
toolbar-fit = Ajustar a la ventana
toolbar-chat = Chat
toolbar-chat-unread = Chat ({ $n } nuevos)
toolbar-stats = ida y vuelta { $rtt } ms · { $kbps } kbit/s · { $fps } actualizaciones/s · mostrado { $present } ms tras llegar
standing-connecting = Conectando…
standing-waiting = Esperando a que { $sharer } permita la conexión…
standing-viewing = Viendo la pantalla de { $sharer }.
standing-controlling = Controlando la pantalla de { $sharer }: Esc devuelve el control.
chat-hint = Mensaje, y después Intro
chat-you = Tú
screen-waiting = La pantalla de quien comparte aparece aquí cuando permita la conexión.
screen-fitted = La pantalla de quien comparte es mayor que la ventana: se muestra ajustada.
link-cannot-start = No se puede empezar: { $why }.
link-bad-stretch = Los ajustes de contraseña de la invitación no sirven: { $why }.
link-stretch-failed = Falló el cálculo de la contraseña: { $why }.
link-no-socket = No se puede abrir un socket UDP: { $why }.
link-ended = La sesión terminó.
link-you-disconnected = Te desconectaste.
link-sharer-disconnected = Quien comparte se desconectó.
connect-reading = leyendo la invitación { $file }
connect-no-address = la invitación no indica ninguna dirección

## beckon-viewer open, y la entrada del escritorio
open-from = Invitación de { $from }: { $message }
open-expires = Caduca dentro de { $span }. Comprueba con { $from } que de verdad la envió.
open-expired = la invitación ha caducado: pide una nueva a { $from }
open-password-prompt = Contraseña:
open-password-required = hace falta una contraseña: escríbela cuando se pida, o usa --password-stdin
open-connected = Conectado. Esperando a que { $sharer } permita la conexión.
open-viewing = Ves la pantalla de quien comparte.
open-asking-control = Pidiendo el control.
open-control = Tienes el control.
open-control-denied = Quien comparte no permitió el control.
open-control-ended = El control terminó.
open-chat = quien comparte: { $text }
open-shown = visible
open-hidden = oculto
open-pointer = El puntero de quien comparte ({ $size }, { $shown }) estuvo por última vez en { $at }.
open-saved = Lo mostrado se guardó en { $file }.
open-disconnected-helper = Desconectado por quien ayuda.
open-disconnected-sharer = Desconectado por quien comparte.
open-no-reason = la sesión terminó sin un motivo
open-bad-at = --at { $at } no es X,Y
desktop-wrote = Escritos { $entry } y { $package }.
desktop-ran = Ejecutado { $tool }.
desktop-tool-failed = { $tool } falló; la entrada se escribió igualmente.
desktop-tool-missing = { $tool } no está instalado; puede que el escritorio solo lo note tras cerrar la sesión.
io-writing = escribiendo { $file }
io-creating = creando { $file }
