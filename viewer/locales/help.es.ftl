# La ayuda de `beckon-viewer --help` en español (en inglés es la de los comentarios del código).
# Una prueba comprueba que cada orden y cada opción tienen aquí la suya.

about = La parte de Beckon de quien ayuda: abrir una invitación, conectarse, ver la pantalla de quien la envió.
arg-invitation = La invitación que se abre en la ventana (un archivo, o el texto beckon:)
arg-name = Tu nombre, como lo verá quien comparte (por defecto: el que diste la última vez)
arg-install-desktop-entry = Registrar el visor en el escritorio (una entrada .desktop y el tipo de archivo de las invitaciones), para que un gestor de archivos abra con él las invitaciones, y salir
arg-verbose = Mostrar los eventos de depuración de Beckon en la salida de errores (RUST_LOG elige otros). Los eventos siempre se guardan en ~/.local/state/beckon/viewer.log

about-open = Abrir una invitación (un archivo, o el texto beckon:) y conectarse, sin ventana
arg-open-invitation = El archivo de la invitación, o el texto `beckon:`
arg-open-name = Tu nombre, como lo verá quien comparte
arg-open-password-stdin = Leer la contraseña de la entrada estándar (en scripts)
arg-open-screenshot = Guardar lo que se muestra, como PNG, al terminar la sesión
arg-open-seconds = Desconectar tras estos segundos (por defecto: seguir hasta que quien comparte se desconecte)
arg-open-wait-exact = Con --seconds: cumplidos, seguir hasta que la imagen sea exactamente la pantalla de quien comparte (como mucho un minuto más), para que --screenshot guarde sus píxeles
arg-open-type-text = Pedir el control una vez conectado y, cuando quien comparte lo permita, escribir este texto (`\n` para Intro, `\e` para un Esc literal), y después devolver el control (scripts y pruebas). Repite --type para escribir varios textos, separados --pause segundos, todo con un mismo permiso
arg-open-pause = Segundos entre los textos de varios --type
arg-open-say = Enviar este mensaje de chat una vez conectado (repítelo para varios)
arg-open-at = Con --type: mover antes el puntero aquí y hacer clic (X,Y en la pantalla de quien comparte)
arg-open-json = Al final, imprimir lo sucedido como JSON en la salida estándar (en scripts): la invitación, cómo terminó la sesión, el tamaño de la pantalla, el chat de quien comparte

# Las palabras de clap.
help-usage = Uso:
help-commands = Órdenes
help-options = Opciones
help-arguments = Argumentos
arg-help = Mostrar la ayuda
arg-version = Mostrar la versión
about-help = Mostrar esta ayuda, o la de las órdenes indicadas
