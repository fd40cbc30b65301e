# Los textos del motor en español: horas, contraseñas, invitaciones, cómo terminó una sesión, la
# red. Cada mensaje tiene su gemelo en en.ftl, con los mismos marcadores (una prueba lo comprueba).

## Horas
unit-seconds = { $n ->
    [one] 1 segundo
   *[other] { $n } segundos
}
unit-minutes = { $n ->
    [one] 1 minuto
   *[other] { $n } minutos
}
unit-hours = { $n ->
    [one] 1 hora
   *[other] { $n } horas
}
unit-days = { $n ->
    [one] 1 día
   *[other] { $n } días
}
duration-pair = { $first } y { $second }
relative-now = ahora mismo
relative-future = dentro de { $span }
relative-past = hace { $span }
date-unknown = { $at } segundos después de 1970

## Contraseñas
password-too-short = la contraseña tiene { $n ->
    [one] 1 carácter
   *[other] { $n } caracteres
}; usa al menos { $min }
password-missing-letter = la contraseña necesita letras, cifras y un carácter especial (como ! # % o -); no tiene ninguna letra
password-missing-digit = la contraseña necesita letras, cifras y un carácter especial (como ! # % o -); no tiene ninguna cifra
password-missing-special = la contraseña necesita letras, cifras y un carácter especial (como ! # % o -); no tiene ningún carácter especial
password-guessable = la contraseña es demasiado fácil de adivinar{ $hint }; añade palabras sin relación o usa --generate-password
password-mismatch = las dos contraseñas no coinciden; escribe la misma contraseña dos veces
zxcvbn-straight-rows = las filas seguidas del teclado son fáciles de adivinar
zxcvbn-keyboard-patterns = los dibujos cortos sobre el teclado son fáciles de adivinar
zxcvbn-repeats = las repeticiones como «aaa» son fáciles de adivinar
zxcvbn-repeated-words = las repeticiones como «abcabcabc» apenas son más difíciles de adivinar que «abc»
zxcvbn-top10 = es una de las 10 contraseñas más usadas
zxcvbn-top100 = es una de las 100 contraseñas más usadas
zxcvbn-common = es una contraseña muy común
zxcvbn-similar = se parece a una contraseña muy usada
zxcvbn-sequences = las secuencias como abc o 6543 son fáciles de adivinar
zxcvbn-recent-years = los años recientes son fáciles de adivinar
zxcvbn-word = una palabra sola es fácil de adivinar
zxcvbn-dates = las fechas suelen ser fáciles de adivinar
zxcvbn-names = los nombres y apellidos solos son fáciles de adivinar
zxcvbn-common-names = los nombres y apellidos comunes son fáciles de adivinar

## Invitaciones
invite-not-one = esto no es una invitación de Beckon: { $reason }
invite-field = el campo { $field } de la invitación no es válido: { $reason }
invite-version = la invitación es de la versión { $version } y este Beckon lee la versión { $supported }: actualiza Beckon
invite-too-large = { $bytes } bytes es demasiado
invite-string-too-long = el texto es demasiado largo
invite-damaged = el texto que sigue a beckon: está dañado (¿se copió entero?)
invite-extra = hay datos de más tras la invitación
invite-id = se esperaban de 8 a 64 letras, cifras o guiones
invite-expires-early = no es posterior a la creación
invite-expires-late = más de 30 días después de la creación
invite-salt = se esperaban 32 cifras hexadecimales
invite-memory = se esperaban de 16 MiB a 256 MiB
invite-passes = se esperaba de 1 a 8
invite-lanes = se esperaba de 1 a 4
invite-address-count = se esperaban de 1 a { $max } direcciones
invite-relay-count = como mucho { $max } servidores de retransmisión
invite-relay-key = la clave de un servidor de retransmisión no son 40 cifras hexadecimales
invite-not-address = { $text } no es una dirección con puerto
invite-no-port = { $text } no tiene puerto
invite-fingerprint = se esperaban 64 cifras hexadecimales (se admiten dos puntos)
invite-from = se esperaba un nombre de 1 a { $max } caracteres imprimibles
invite-message-long = más de { $max } caracteres
invite-message-invisible = caracteres de control o invisibles (en un mensaje solo caben saltos de línea)

## Cómo terminó una sesión
close-locked-now = contraseña incorrecta: la invitación queda bloqueada; pide una nueva a quien te invitó
close-wrong-password = contraseña incorrecta ({ $left ->
    [one] queda 1 intento
   *[other] quedan { $left } intentos
}): compruébala con quien te invitó
close-expired = la invitación ha caducado: pide una nueva a quien te invitó
close-deleted = quien te invitó borró esta invitación
close-locked = la invitación está bloqueada tras demasiadas contraseñas incorrectas: pide una nueva a quien te invitó
close-in-use = ya hay otra persona conectada con esta invitación
close-used = esta invitación ya se usó: pide una nueva a quien te invitó
close-changed = esta invitación se modificó después de crearla: pide a quien te invitó que la envíe de nuevo
close-unknown = el equipo de quien te invitó no conoce esta invitación
close-refused = quien te invitó no permitió la conexión
close-not-authentic = el otro lado no pudo demostrar que tiene esta invitación: no confíes en esta conexión
close-timed-out = el otro lado dejó de responder
close-sharer-left = quien te invitó se desconectó
close-helper-left = quien te ayudaba se desconectó
close-version = el otro lado habla la versión { $theirs } del protocolo y este la { $ours }: actualiza los dos
close-protocol = error de protocolo: { $detail }
close-screen = no se pudo compartir la pantalla de quien te invitó: { $detail }

## La red
net-bind = no se puede abrir el puerto UDP { $addr }: { $why }
relay-silent = el servidor de retransmisión { $server } no responde: está apagado, o un cortafuegos bloquea UDP hacia él
relay-refused = el servidor de retransmisión { $server } rechazó el acceso de Beckon: el secreto del servidor en agent.toml no es el del servidor, o la invitación ha caducado
relay-no-permission = el servidor de retransmisión { $server } no deja pasar el tráfico del otro equipo
relay-unknown = este equipo no tiene dirección en el servidor de retransmisión { $server }
net-unreachable = { $addr } no responde: el equipo de quien te invitó está apagado, no se puede alcanzar, o un cortafuegos bloquea el puerto UDP { $port } (en ese equipo, `beckon-agent doctor` lo comprueba)
net-wrong-certificate = el equipo en { $addr } no es el que indica la invitación (el certificado no coincide): no sigas
net-connect = no se puede conectar: { $why }
net-failed = la conexión falló: { $why }
net-no-control = el lado de quien ayuda no abrió a tiempo el canal de control
net-read = el canal de control se rompió: { $why }
net-write = no se pudo escribir en el canal de control: { $why }
net-framing = el otro lado envió un mensaje mal formado: { $why }
net-tls = falló la preparación de TLS: { $why }
net-certificate = no se pudo crear el certificado del agente: { $why }
net-no-exporter = la conexión no ofrece material de claves al que atar la sesión
no-home = no hay carpeta personal: define HOME (o indica la carpeta en la línea de órdenes)
