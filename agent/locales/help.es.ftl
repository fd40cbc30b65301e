# La ayuda de `beckon-agent --help` en español (en inglés es la de los comentarios del código).
# Una prueba comprueba que cada orden y cada opción tienen aquí la suya.

about = La parte de Beckon de quien pide ayuda: las invitaciones, su almacén, y el servicio para quien ayuda.
arg-data-dir = Dónde se guardan las invitaciones y el registro de auditoría (por defecto: BECKON_DATA_DIR, si no, la carpeta de datos XDG)
arg-config = El archivo de configuración (por defecto: $XDG_CONFIG_HOME/beckon/agent.toml, si no, ~/.config/beckon/agent.toml)
arg-verbose = Mostrar los eventos de depuración de Beckon en la salida de errores (RUST_LOG elige otros). Los eventos siempre se guardan en ~/.local/state/beckon/agent.log

about-window = Abrir la ventana de quien pide ayuda: pedir ayuda, seguir tus invitaciones y dejar entrar a quien te ayuda (lo predeterminado)
arg-window-listen = La dirección UDP donde esperar a quien ayuda mientras haya una invitación abierta; las invitaciones creadas en la ventana la indican (o las direcciones de este equipo, si es 0.0.0.0)
arg-window-display = La pantalla X que se comparte y donde se muestra la ventana (por defecto: DISPLAY)
arg-monitor = Compartir solo este monitor: su número (desde 1) o su nombre, como los lista `beckon-agent doctor` (por defecto: la pantalla entera, todos los monitores)

about-invite = Crear una invitación para quien te ayuda
arg-invite-from = Tu nombre, como lo verá quien te ayude («De»)
arg-invite-message = Con qué necesitas ayuda
arg-invite-expires = Cuánto vale la invitación: 30m, 1h (lo predeterminado, y el máximo recomendado), 4h
arg-invite-max-expiry = La validez más larga permitida (nunca más que max_expiry en [policy] de agent.toml; 24h si no está definido)
arg-invite-generate-password = Crear una contraseña segura y mostrarla una vez
arg-invite-password-stdin = Leer la contraseña de la entrada estándar (en scripts)
arg-invite-addresses = Dónde se puede alcanzar este equipo (IP:PUERTO; repítelo para varias). Por defecto: la dirección por la que sale su ruta predeterminada (IPv4 e IPv6), y 127.0.0.1, en --port
arg-invite-port = El puerto UDP en el que sirve el agente
arg-invite-email = Enviar la invitación por correo a esta dirección (o al comienzo de una de la libreta)
arg-invite-eml = Con --email: escribir el correo en este archivo .eml para tu programa de correo en vez de enviarlo
arg-invite-save = Guardar la invitación en este archivo
arg-invite-string = Imprimir la invitación como un texto para pegar en cualquier programa de chat
arg-invite-json = Imprimir el identificador, la caducidad y la entrega de la invitación como JSON en la salida estándar (en scripts). Una contraseña generada sigue yendo solo a la terminal
arg-smtp-host = Servidor SMTP para --email
arg-smtp-port = Puerto SMTP (por defecto: 587 con starttls, 465 con tls, 25 con none)
arg-smtp-security = starttls (por defecto), tls o none
arg-smtp-user = Usuario SMTP (la contraseña viene de BECKON_SMTP_PASSWORD)
arg-smtp-from = La dirección del remitente, por ejemplo "Ada <ada@example.org>"
arg-smtp-ca = Una autoridad de certificación más (PEM) en la que confiar para el servidor SMTP

about-invitations = Listar todas las invitaciones con su estado
arg-invitations-json = Imprimir JSON en vez de una tabla
about-expire = Caducar una invitación ya: nunca más podrá usarse
arg-expire-id = El identificador de la invitación (basta un comienzo que no se repita)
about-resend = Entregar otra vez una invitación, igual que antes
arg-resend-id = El identificador de la invitación (basta un comienzo que no se repita)
about-delete = Borrar una invitación: nunca más podrá usarse
arg-delete-id = El identificador de la invitación (basta un comienzo que no se repita)

about-share = Servir las invitaciones: esperar a quien ayuda y preguntarte antes de que vea nada
arg-share-listen = La dirección UDP donde escuchar
arg-share-x11 = Compartir esta pantalla X (por defecto: DISPLAY), aplicando la entrada de quien ayuda con XTEST mientras tenga el control
arg-share-wayland = Compartir este escritorio Wayland (WAYLAND_DISPLAY) de sway u otro compositor wlroots, aplicando la entrada de quien ayuda con su puntero y teclado virtuales
arg-share-portal = Compartir a través del portal del escritorio (GNOME, KDE Plasma o xdg-desktop-portal-wlr): el escritorio pregunta una vez qué monitores compartir, y deja escribir a quien ayuda donde ofrece el control remoto
arg-share-display = La pantalla X para --x11 (por defecto: DISPLAY)
arg-share-clip = Mostrar este clip grabado (NOMBRE.bgra.zst) como pantalla (demostraciones, pruebas)
arg-share-yes = Permitir las conexiones sin preguntar (scripts y demostraciones)
arg-share-sessions = Parar tras terminar este número de conexiones, admitidas o rechazadas (por defecto: servir hasta que se interrumpa). No cuentan los intentos cuyo saludo falla (un certificado falso) ni las conexiones que terminan sin probar una contraseña
arg-share-console = Preguntar y chatear en esta terminal en vez de en la ventana
arg-share-continue-every = Preguntar «¿Sigues compartiendo?» tras estos segundos de sesión, y otra vez tras cada Sí
arg-share-continue-timeout = Desconectar a quien ayuda si «¿Sigues compartiendo?» queda sin respuesta estos segundos
arg-share-no-clipboard = Guardarte el portapapeles: por defecto, mientras quien ayuda tiene el control, lo que copias le llega y lo que copia te llega (solo texto; la ventana puede apagarlo)

about-stop-control = Quitar ahora el control a quien te ayuda, como hace Esc: para una combinación de teclas de tu escritorio donde Esc no puede (compositores Wayland que no son sway)
about-doctor = Comprobar si quien ayuda puede alcanzar este agente, y decir qué hacer si no
arg-doctor-listen = La dirección UDP en la que escucha `share`
arg-doctor-display = La pantalla X que se comprueba (por defecto: DISPLAY)
arg-doctor-no-netns = Omitir la prueba desde otro espacio de red
arg-doctor-json = Imprimir los resultados como JSON (en scripts) en vez de líneas

about-helpers = Listar las direcciones de quienes recibieron invitaciones por correo (la libreta)
arg-helpers-json = Imprimir JSON en vez de líneas
about-log = Mostrar el registro de auditoría
arg-log-json = Imprimir JSON en vez de líneas

# Las palabras de clap.
help-usage = Uso:
help-commands = Órdenes
help-options = Opciones
arg-help = Mostrar la ayuda
arg-version = Mostrar la versión
about-help = Mostrar esta ayuda, o la de las órdenes indicadas
help-arguments = Argumentos
