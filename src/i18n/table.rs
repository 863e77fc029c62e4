//! THE table of user-facing messages: one id, its English and its French text. Nothing a user
//! reads is written anywhere else (tests/cli/messages.rs scans the CLI sources for strays).
//!
//! Vocabulary (ANS's own words on the cards): PIN = « code porteur » (4 digits), PUK = « code de
//! déblocage » (8 digits), card = « carte CPS ».

macro_rules! messages {
    ($( $(#[$doc:meta])* $id:ident { en: $en:literal, fr: $fr:literal $(,)? } )*) => {
        /// A message id; [`Msg::en`] and [`Msg::fr`] give its two texts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Msg {
            $( $(#[$doc])* $id, )*
        }

        impl Msg {
            /// Every id, in table order.
            pub const ALL: &'static [Msg] = &[$(Msg::$id,)*];

            /// English template.
            pub fn en(self) -> &'static str {
                match self { $(Msg::$id => $en,)* }
            }

            /// French template.
            pub fn fr(self) -> &'static str {
                match self { $(Msg::$id => $fr,)* }
            }
        }
    };
}

messages! {
    // ---------------------------------------------------------------- PIN and PUK
    PinWrongTriesLeft { en: "PIN wrong, {tries} tries left", fr: "code porteur erroné, {tries} essais restants" }
    PinWrongLastTry {
        en: "PIN wrong, 1 try left: one more wrong PIN blocks the card",
        fr: "code porteur erroné, 1 essai restant : une erreur de plus bloque la carte",
    }
    PinBlocked { en: "PIN blocked", fr: "code porteur bloqué" }
    PinBlockedFix {
        en: "unblock it with `cps-tool pin unblock` (you need the PUK, the 8-digit unblocking code)",
        fr: "débloquez-le avec `cps-tool pin unblock` (il faut le code de déblocage à 8 chiffres)",
    }
    PukWrongTriesLeft { en: "PUK wrong, {tries} tries left", fr: "code de déblocage erroné, {tries} essais restants" }
    PukBlocked { en: "PUK blocked: the card can no longer be unblocked", fr: "code de déblocage bloqué : la carte ne peut plus être débloquée" }
    PukBlockedFix { en: "ask your card issuer (ANS) for a new card", fr: "demandez une nouvelle carte à l'ANS" }
    PinFormat { en: "the PIN has exactly 4 digits", fr: "le code porteur a exactement 4 chiffres" }
    PukFormat { en: "the PUK has exactly 8 digits", fr: "le code de déblocage a exactement 8 chiffres" }
    PinFormatFix { en: "nothing was sent to the card; type it again", fr: "rien n'a été envoyé à la carte ; saisissez-le à nouveau" }
    PinNotVerified { en: "the card needs the PIN first", fr: "la carte demande d'abord le code porteur" }
    PinVerified { en: "PIN correct", fr: "code porteur correct" }
    PinChanged { en: "PIN changed", fr: "code porteur modifié" }
    PinUnblocked { en: "PIN unblocked and replaced; {tries} tries", fr: "code porteur débloqué et remplacé ; {tries} essais" }
    PinMismatch { en: "the two new PINs differ", fr: "les deux nouveaux codes porteur diffèrent" }
    PinStateVerified { en: "verified", fr: "vérifié" }
    PinStateTries { en: "{tries} of {max} tries left", fr: "{tries} essais restants sur {max}" }
    PinStateBlocked { en: "BLOCKED", fr: "BLOQUÉ" }
    PinSourceEmpty { en: "no PIN in {source}", fr: "aucun code dans {source}" }
    PinSourceUnreadable { en: "cannot read the PIN file {path}: {error}", fr: "lecture du fichier de code {path} impossible : {error}" }
    PinNoTerminal {
        en: "no terminal to ask for the {what}: give it with --pin-file or {var}",
        fr: "pas de terminal pour demander le {what} : donnez-le avec --pin-file ou {var}",
    }
    PinWordPin { en: "PIN", fr: "code porteur" }
    PinWordPuk { en: "PUK", fr: "code de déblocage" }
    PinWordNewPin { en: "new PIN", fr: "nouveau code porteur" }

    // ---------------------------------------------------------------- PIN prompts (CLI and pinentry)
    PromptPin { en: "PIN of the card {label} ({tries} tries left): ", fr: "Code porteur de la carte {label} ({tries} essais restants) : " }
    PromptPinLastTry {
        en: "PIN of the card {label} (LAST try: a wrong PIN blocks the card): ",
        fr: "Code porteur de la carte {label} (DERNIER essai : une erreur bloque la carte) : ",
    }
    PromptPuk { en: "PUK (unblocking code, 8 digits) of the card {label} ({tries} tries left): ", fr: "Code de déblocage (8 chiffres) de la carte {label} ({tries} essais restants) : " }
    PromptNewPin { en: "New PIN (4 digits): ", fr: "Nouveau code porteur (4 chiffres) : " }
    PromptNewPinAgain { en: "New PIN again: ", fr: "Confirmez le nouveau code porteur : " }
    PinentryTitle { en: "CPS card", fr: "Carte CPS" }
    PinentryLabel { en: "PIN:", fr: "Code :" }
    /// `{serial}` is filled by the token layer (`PromptTexts::card`).
    PinentryCard { en: "CPS card {serial}", fr: "Carte CPS {serial}" }
    PinentryOldPin { en: "current PIN", fr: "code porteur actuel" }
    /// `{n}` is filled by the token layer (`PromptTexts::tries_many`).
    PinentryTriesMany { en: "{n} tries left", fr: "{n} essais restants" }
    PinentryTriesOne { en: "last try: a wrong PIN blocks the card", fr: "dernier essai : une erreur bloque la carte" }
    PinpadPrompt { en: "enter the PIN on the reader's keypad ({tries} tries left)", fr: "saisissez le code porteur sur le clavier du lecteur ({tries} essais restants)" }
    ErrPinEntry { en: "PIN entry failed: {detail}", fr: "échec de la saisie du code : {detail}" }
    ErrNoPin { en: "this card (interface) has no PIN", fr: "cette carte (interface) n'a pas de code porteur" }

    // ---------------------------------------------------------------- readers and cards
    ErrNoService { en: "the PC/SC service is not running", fr: "le service PC/SC n'est pas démarré" }
    ErrNoServiceFix {
        en: "start it: `sudo systemctl enable --now pcscd.socket` (Debian/Ubuntu: `sudo apt install pcscd`)",
        fr: "démarrez-le : `sudo systemctl enable --now pcscd.socket` (Debian/Ubuntu : `sudo apt install pcscd`)",
    }
    ErrNoReaders { en: "no smart card reader found", fr: "aucun lecteur de carte trouvé" }
    ErrNoReadersFix {
        en: "plug in the reader; if it is plugged in, `sudo systemctl restart pcscd` and check `cps-tool readers`",
        fr: "branchez le lecteur ; s'il l'est déjà, `sudo systemctl restart pcscd` puis `cps-tool readers`",
    }
    ErrReaderNotFound { en: "reader not found: {name}", fr: "lecteur introuvable : {name}" }
    ErrReaderNotFoundFix { en: "list the readers with `cps-tool readers` and copy the name exactly", fr: "listez les lecteurs avec `cps-tool readers` et recopiez le nom exact" }
    ErrNoCard { en: "no card in the reader", fr: "aucune carte dans le lecteur" }
    ErrNoCardFix { en: "insert your CPS card (chip first), or add --wait to wait for it", fr: "insérez votre carte CPS (puce en premier), ou ajoutez --wait pour l'attendre" }
    ErrCardRemoved { en: "the card was removed", fr: "la carte a été retirée" }
    ErrCardRemovedFix { en: "insert the card again and repeat the command", fr: "réinsérez la carte et relancez la commande" }
    ErrCardReset { en: "the card was reset by another application", fr: "la carte a été réinitialisée par une autre application" }
    ErrRepeat { en: "repeat the command", fr: "relancez la commande" }
    ErrUnresponsive { en: "the card does not answer", fr: "la carte ne répond pas" }
    ErrUnresponsiveFix { en: "take the card out, check its chip is clean, insert it again", fr: "retirez la carte, vérifiez que la puce est propre, réinsérez-la" }
    ErrSharing { en: "the card is used exclusively by another application", fr: "la carte est utilisée en exclusivité par une autre application" }
    ErrSharingFix { en: "close the other application (browser, signing software) and retry", fr: "fermez l'autre application (navigateur, logiciel de signature) et réessayez" }
    ErrTimeout { en: "timed out", fr: "délai dépassé" }
    ErrCancelled { en: "cancelled", fr: "annulé" }
    ErrReaderUnsupported { en: "not supported by this reader: {what}", fr: "non pris en charge par ce lecteur : {what}" }
    ErrReader { en: "reader error: {detail}", fr: "erreur du lecteur : {detail}" }
    ErrNotCps { en: "this card is not a CPS3/CPS4 card ({detail})", fr: "cette carte n'est pas une carte CPS3/CPS4 ({detail})" }
    ErrNotCpsFix { en: "insert a CPS card (CPS, CPF, CPE, CPA or CDE)", fr: "insérez une carte CPS (CPS, CPF, CPE, CPA ou CDE)" }
    ErrCardUnsupported { en: "this card cannot do that: {what}", fr: "cette carte ne sait pas le faire : {what}" }
    ErrCardRefused { en: "the card refused {op}: {sw}", fr: "la carte a refusé {op} : {sw}" }
    ErrCardChannel { en: "the card closed its channel; nothing was checked", fr: "la carte a fermé son canal ; rien n'a été vérifié" }
    ErrCardFile { en: "unreadable card file: {detail}", fr: "fichier de la carte illisible : {detail}" }
    ErrCardOther { en: "card error: {detail}", fr: "erreur de la carte : {detail}" }
    ErrObjectNotFound { en: "not found on the card", fr: "absent de la carte" }
    ErrEmulator { en: "emulated card: {detail}", fr: "carte émulée : {detail}" }
    ErrImageNotSaved { en: "card image not saved: {detail}", fr: "image de carte non enregistrée : {detail}" }
    ErrSignal { en: "cannot handle signal {sig}: {detail}", fr: "impossible de traiter le signal {sig} : {detail}" }
    ErrInterrupted { en: "interrupted", fr: "interrompu" }
    ErrFile { en: "{path}: {detail}", fr: "{path} : {detail}" }
    ErrUsageApdu { en: "APDU #{n} {text}: {detail}", fr: "APDU n°{n} {text} : {detail}" }
    ErrUsageApduNotHex { en: "not hex ({detail})", fr: "pas de l'hexadécimal ({detail})" }
    ErrEmulateOwnOptions {
        en: "emulate takes its card from its own options (emulate --card cps3|cps4 --holder ...)",
        fr: "emulate prend sa carte dans ses propres options (emulate --card cps3|cps4 --holder ...)",
    }
    ErrFaultSpec { en: "bad --emulated-fault {spec}: {detail}", fr: "--emulated-fault {spec} invalide : {detail}" }
    ErrOther { en: "{detail}", fr: "{detail}" }
    FixPrefix { en: "what to do: {fix}", fr: "que faire : {fix}" }
    WaitingForCard { en: "waiting for a card in {reader} (Ctrl-C to stop)…", fr: "attente d'une carte dans {reader} (Ctrl-C pour arrêter)…" }
    WaitingForAnyCard { en: "waiting for a card (Ctrl-C to stop)…", fr: "attente d'une carte (Ctrl-C pour arrêter)…" }
    ReadingCard { en: "reading the card…", fr: "lecture de la carte…" }
    WorkingCard { en: "the card is working…", fr: "la carte travaille…" }

    // ---------------------------------------------------------------- readers / apdu / emulate
    ReaderCardPresent { en: "{reader}: card present, ATR {atr} [{kind}]", fr: "{reader} : carte présente, ATR {atr} [{kind}]" }
    ReaderCardMute { en: "{reader}: card present but mute, ATR {atr}", fr: "{reader} : carte présente mais muette, ATR {atr}" }
    ReaderEmpty { en: "{reader}: no card", fr: "{reader} : pas de carte" }
    ReaderUnavailable { en: "{reader}: reader unavailable", fr: "{reader} : lecteur indisponible" }
    ReaderExclusive { en: " (used exclusively by another application)", fr: " (utilisé en exclusivité par une autre application)" }
    ReaderInUse { en: " (in use)", fr: " (en cours d'utilisation)" }
    UnknownCard { en: "unknown card", fr: "carte inconnue" }
    ApduNoStatus { en: "no status word", fr: "pas de mot d'état" }
    EmulateServing {
        en: "serving an EMULATED {generation} {holder} card (test keys{image}) to vpcd at {addr}; stop with SIGTERM or Ctrl-C",
        fr: "carte ÉMULÉE {generation} {holder} (clés de test{image}) servie à vpcd sur {addr} ; arrêt par SIGTERM ou Ctrl-C",
    }
    EmulateImage { en: ", image {path}", fr: ", image {path}" }

    // ---------------------------------------------------------------- info / certs / objects
    InfoReader { en: "Reader", fr: "Lecteur" }
    InfoCard { en: "Card", fr: "Carte" }
    InfoGeneration { en: "Generation", fr: "Génération" }
    InfoAtr { en: "ATR", fr: "ATR" }
    InfoSerial { en: "Serial number", fr: "Numéro de série" }
    InfoLabel { en: "Token label", fr: "Libellé du jeton" }
    InfoCardType { en: "Card type", fr: "Type de carte" }
    InfoCardTypeCode { en: "{kind} (type code {code})", fr: "{kind} (code type {code})" }
    InfoKindOr { en: "{a} or {b}", fr: "{a} ou {b}" }
    InfoKindUnknown { en: "not known from the card data", fr: "inconnu d'après les données de la carte" }
    InfoHolder { en: "Holder", fr: "Porteur" }
    InfoIdNat { en: "National id", fr: "Identifiant national" }
    InfoProfession { en: "Profession", fr: "Profession" }
    InfoTitle { en: "Title", fr: "Titre" }
    InfoPseudonym { en: "Pseudonym", fr: "Pseudonyme" }
    InfoStructure { en: "Structure", fr: "Structure" }
    InfoValidity { en: "Valid", fr: "Validité" }
    InfoValidityRange { en: "{from} to {to} ({days})", fr: "du {from} au {to} ({days})" }
    InfoPin { en: "PIN", fr: "Code porteur" }
    InfoPuk { en: "PUK", fr: "Code de déblocage" }
    InfoNoPin { en: "none on this interface", fr: "aucun sur cette interface" }
    InfoMechanisms { en: "Mechanisms", fr: "Mécanismes" }
    InfoCertificate { en: "Certificate", fr: "Certificat" }
    InfoEmulated { en: "EMULATED card with TEST keys", fr: "carte ÉMULÉE, clés de TEST" }
    CertSignature { en: "signature", fr: "signature" }
    CertAuthentication { en: "authentication", fr: "authentification" }
    CertTechnical { en: "technical", fr: "technique" }
    CertAuthority { en: "certification authority", fr: "autorité de certification" }
    CertLine {
        en: "{role}: {label}\n  subject: {subject}\n  issuer: {issuer}\n  serial: {serial}\n  valid: {from} → {to} ({days})",
        fr: "{role} : {label}\n  sujet : {subject}\n  émetteur : {issuer}\n  numéro : {serial}\n  validité : {from} → {to} ({days})",
    }
    CertsNone { en: "this card holds no certificate", fr: "cette carte ne contient aucun certificat" }
    DaysLeft { en: "{days} days left", fr: "encore {days} jours" }
    ExpiredDaysAgo { en: "EXPIRED {days} days ago", fr: "EXPIRÉ depuis {days} jours" }
    NotYetValid { en: "not valid before {date}", fr: "pas valide avant le {date}" }
    CertExported { en: "written {path}", fr: "écrit {path}" }
    ErrExportDir { en: "cannot write into {path}: {detail}", fr: "écriture impossible dans {path} : {detail}" }
    ObjectsCertificates { en: "Certificates", fr: "Certificats" }
    ObjectsPrivateKeys { en: "Private keys", fr: "Clés privées" }
    ObjectsPublicKeys { en: "Public keys", fr: "Clés publiques" }
    ObjectsData { en: "Data objects", fr: "Objets de données" }
    ObjectCertLine { en: "{label} (id {id}, {role})", fr: "{label} (id {id}, {role})" }
    ObjectKeyLine { en: "{label} (id {id}): RSA {bits} bits, {role}, {usage}{private}", fr: "{label} (id {id}) : RSA {bits} bits, {role}, {usage}{private}" }
    ObjectPublicKeyLine { en: "{label} (id {id}): RSA {bits} bits", fr: "{label} (id {id}) : RSA {bits} bits" }
    ObjectUsageSign { en: "sign", fr: "signature" }
    ObjectUsageDecrypt { en: "decrypt", fr: "déchiffrement" }
    ObjectUsageNonRepudiation { en: "non-repudiation", fr: "non-répudiation" }
    ObjectLine { en: "{label}: {size} bytes{private}", fr: "{label} : {size} octets{private}" }
    ObjectSizeUnknown { en: "{label}: size unknown{private}", fr: "{label} : taille inconnue{private}" }
    ObjectPrivate { en: " (needs the PIN)", fr: " (code porteur requis)" }
    ObjectModifiable { en: " (writable)", fr: " (modifiable)" }
    ObjectsHidden {
        en: "{n} private data objects not shown: add --login (needs the PIN)",
        fr: "{n} objets de données privés non affichés : ajoutez --login (code porteur requis)",
    }

    // ---------------------------------------------------------------- sign / verify / decrypt
    SignWritten { en: "signature written to {path} ({bytes} bytes, {mechanism}, {key} key)", fr: "signature écrite dans {path} ({bytes} octets, {mechanism}, clé {key})" }
    SignNoPss {
        en: "this card ({card}) cannot sign with RSA-PSS (PKCS#1 v1.5 only); nothing was sent to it",
        fr: "cette carte ({card}) ne sait pas signer en RSA-PSS (PKCS#1 v1.5 seulement) ; rien ne lui a été envoyé",
    }
    SignNoPssFix { en: "use --mechanism sha256-pkcs1, or a CPS4 card", fr: "utilisez --mechanism sha256-pkcs1, ou une carte CPS4" }
    SignMechanismUnsupported {
        en: "the {key} key of this card cannot use {mechanism}; nothing was sent to it",
        fr: "la clé {key} de cette carte ne sait pas faire {mechanism} ; rien ne lui a été envoyé",
    }
    SignMechanismFix { en: "mechanisms of this key: {list}", fr: "mécanismes de cette clé : {list}" }
    SignPssRawLength {
        en: "pss-raw signs a hash: {path} has {len} bytes (20, 32, 48 or 64 expected)",
        fr: "pss-raw signe une empreinte : {path} a {len} octets (20, 32, 48 ou 64 attendus)",
    }
    SignRawInput {
        en: "{mechanism} with the {key} key signs a SHA-1/SHA-256 DigestInfo or hash only; {path} is neither",
        fr: "{mechanism} avec la clé {key} ne signe qu'un DigestInfo ou une empreinte SHA-1/SHA-256 ; {path} n'en est pas un",
    }
    SignBadSignature { en: "the card returned a signature that does not verify; nothing was written", fr: "la carte a rendu une signature invalide ; rien n'a été écrit" }
    VerifyOk { en: "signature OK ({mechanism}, {key} certificate of the card)", fr: "signature valide ({mechanism}, certificat {key} de la carte)" }
    VerifyFailed { en: "signature does NOT verify ({mechanism}, {key} certificate of the card)", fr: "signature NON valide ({mechanism}, certificat {key} de la carte)" }
    DecryptWritten { en: "plaintext written to {path} ({bytes} bytes)", fr: "texte clair écrit dans {path} ({bytes} octets)" }
    ErrDecryptFailed { en: "the card could not decrypt this (not for this card's key, or damaged)", fr: "la carte n'a pas pu déchiffrer (pas pour la clé de cette carte, ou abîmé)" }
    ErrDecryptLength { en: "{path} has {len} bytes; a cryptogram for this key has {max}", fr: "{path} a {len} octets ; un cryptogramme pour cette clé en a {max}" }
    ErrNoKey { en: "this card has no {key} key", fr: "cette carte n'a pas de clé {key}" }
    ErrNoCertificate { en: "this card has no {key} certificate", fr: "cette carte n'a pas de certificat {key}" }
    ErrBadCertificate { en: "a certificate of the card cannot be used: {detail}", fr: "un certificat de la carte est inutilisable : {detail}" }
    ErrSignatureInvalid { en: "the signature is invalid", fr: "la signature est invalide" }
    ErrDataLen { en: "input of {len} bytes is out of range for this mechanism and key (at most {max})", fr: "entrée de {len} octets hors limites pour ce mécanisme et cette clé ({max} au plus)" }
    ErrDataInvalid { en: "this input cannot be signed with this mechanism and key", fr: "cette entrée ne peut pas être signée avec ce mécanisme et cette clé" }
    ErrMechanismParams { en: "this key cannot use these mechanism parameters", fr: "cette clé ne sait pas utiliser ces paramètres de mécanisme" }
    ErrKeyCannot { en: "this key cannot do that", fr: "cette clé ne sait pas faire cela" }
    ErrReadOnly { en: "this object cannot be modified", fr: "cet objet n'est pas modifiable" }
    ErrKeyNoCertificate { en: "the key has no certificate: its signatures could not be checked", fr: "la clé n'a pas de certificat : ses signatures ne pourraient pas être vérifiées" }
    ErrSameFile { en: "--in and --out are the same file", fr: "--in et --out désignent le même fichier" }

    // ---------------------------------------------------------------- doctor
    DoctorTitle { en: "cps-tool doctor: {ok} ok, {warn} warnings, {fail} problems", fr: "cps-tool doctor : {ok} bons, {warn} avertissements, {fail} problèmes" }
    DoctorAllGood { en: "everything needed for the card is in place", fr: "tout ce qu'il faut pour la carte est en place" }
    DoctorPcscOk { en: "PC/SC service reachable", fr: "service PC/SC joignable" }
    DoctorPcscEmulated { en: "PC/SC not used: emulated card in-process", fr: "PC/SC non utilisé : carte émulée dans le processus" }
    DoctorPcscOtherError { en: "PC/SC service error: {detail}", fr: "erreur du service PC/SC : {detail}" }
    DoctorPcscOtherFix { en: "`sudo systemctl restart pcscd`, then run `cps-tool doctor` again", fr: "`sudo systemctl restart pcscd`, puis relancez `cps-tool doctor`" }
    DoctorReaderPinpad { en: "reader {reader} (pinpad: the PIN is typed on the reader)", fr: "lecteur {reader} (avec clavier : le code se tape sur le lecteur)" }
    DoctorReaderNoPinpad { en: "reader {reader} (no pinpad)", fr: "lecteur {reader} (sans clavier)" }
    DoctorReaderPinpadUnknown { en: "reader {reader} (pinpad not known without a card)", fr: "lecteur {reader} (clavier inconnu sans carte)" }
    DoctorNoReaderWithCard { en: "no card in any reader", fr: "aucune carte dans les lecteurs" }
    DoctorCardRecognized { en: "{reader}: {kind} card, serial {serial}, {label}", fr: "{reader} : carte {kind}, numéro {serial}, {label}" }
    DoctorCardMute { en: "{reader}: the card does not answer (mute)", fr: "{reader} : la carte ne répond pas (muette)" }
    DoctorCardUnknown { en: "{reader}: not a CPS card (ATR {atr})", fr: "{reader} : pas une carte CPS (ATR {atr})" }
    DoctorCardUnreadable { en: "{reader}: the card cannot be read: {detail}", fr: "{reader} : la carte est illisible : {detail}" }
    DoctorCertValid { en: "{role} certificate valid until {date} ({days} days left)", fr: "certificat de {role} valide jusqu'au {date} (encore {days} jours)" }
    DoctorCertSoon { en: "{role} certificate expires on {date}, in {days} days", fr: "le certificat de {role} expire le {date}, dans {days} jours" }
    DoctorCertSoonFix { en: "order the renewal of your card now (ANS)", fr: "commandez dès maintenant le renouvellement de votre carte (ANS)" }
    DoctorCertExpired { en: "{role} certificate EXPIRED on {date} ({days} days ago)", fr: "certificat de {role} EXPIRÉ le {date} (depuis {days} jours)" }
    DoctorCertExpiredFix { en: "this card can no longer authenticate or sign: use your new card, or order one (ANS)", fr: "cette carte ne peut plus authentifier ni signer : utilisez votre nouvelle carte, ou commandez-en une (ANS)" }
    DoctorCertUnreadable { en: "{role} certificate unreadable: {detail}", fr: "certificat de {role} illisible : {detail}" }
    DoctorCertUnreadableFix { en: "the card may be damaged: ask ANS for a new card", fr: "la carte est peut-être abîmée : demandez une nouvelle carte à l'ANS" }
    DoctorPinOk { en: "PIN: {tries} of {max} tries left", fr: "code porteur : {tries} essais restants sur {max}" }
    DoctorPinVerified { en: "PIN: verified in this card session", fr: "code porteur : vérifié dans cette session de la carte" }
    DoctorPinLow { en: "PIN: only {tries} of {max} tries left", fr: "code porteur : plus que {tries} essais sur {max}" }
    DoctorPinLowFix { en: "type it carefully; if you are not sure of it, unblock with the PUK: `cps-tool pin unblock`", fr: "tapez-le avec soin ; en cas de doute, débloquez avec le code de déblocage : `cps-tool pin unblock`" }
    DoctorPukOk { en: "PUK: {tries} of {max} tries left", fr: "code de déblocage : {tries} essais restants sur {max}" }
    DoctorPukLow { en: "PUK: only {tries} of {max} tries left", fr: "code de déblocage : plus que {tries} essais sur {max}" }
    DoctorPukLowFix { en: "do not guess the PUK: find the letter that came with the card", fr: "ne devinez pas le code de déblocage : retrouvez le courrier reçu avec la carte" }
    DoctorPinUnknown { en: "{what}: state unknown ({detail})", fr: "{what} : état inconnu ({detail})" }
    DoctorNoPinContactless { en: "contactless interface: no PIN", fr: "interface sans contact : pas de code porteur" }
    DoctorTls13 { en: "CPS4: RSA-PSS on the card, TLS 1.3 client authentication works", fr: "CPS4 : RSA-PSS sur la carte, l'authentification TLS 1.3 fonctionne" }
    DoctorTls12Only {
        en: "CPS3: no RSA-PSS on the card: web sites must offer TLS 1.2 for client authentication (TLS 1.3 fails)",
        fr: "CPS3 : pas de RSA-PSS sur la carte : les sites doivent proposer TLS 1.2 pour l'authentification (TLS 1.3 échoue)",
    }
    DoctorTls12OnlyFix {
        en: "if a site fails in Firefox, set security.tls.version.max to 3 in about:config (or the policy SSLVersionMax \"tls1.2\"), or ask the site for TLS 1.2",
        fr: "si un site échoue dans Firefox, mettez security.tls.version.max à 3 dans about:config (ou la politique SSLVersionMax « tls1.2 »), ou demandez TLS 1.2 au site",
    }
    DoctorClockOk { en: "system clock {now} is after the start of the certificates' validity ({from})", fr: "l'horloge système {now} est après le début de validité des certificats ({from})" }
    DoctorClockBehind { en: "system clock {now} is BEFORE the start of the certificate validity ({from})", fr: "l'horloge système {now} est AVANT le début de validité du certificat ({from})" }
    DoctorClockFix { en: "set the clock right: `sudo timedatectl set-ntp true`", fr: "remettez l'horloge à l'heure : `sudo timedatectl set-ntp true`" }
    DoctorModuleOk { en: "PKCS#11 module {path} loads: C_GetFunctionList OK (PKCS#11 {version}, {description})", fr: "le module PKCS#11 {path} se charge : C_GetFunctionList OK (PKCS#11 {version}, {description})" }
    DoctorModuleMissing { en: "PKCS#11 module not found (looked in: {paths})", fr: "module PKCS#11 introuvable (cherché dans : {paths})" }
    DoctorModuleMissingFix {
        en: "install cpscard's module libcps_pkcs11.so (`cargo build --release -p cps-pkcs11`, then copy target/release/libcps_pkcs11.so to /usr/lib/x86_64-linux-gnu/pkcs11/), or give its path with --module",
        fr: "installez le module libcps_pkcs11.so de cpscard (`cargo build --release -p cps-pkcs11`, puis copiez target/release/libcps_pkcs11.so dans /usr/lib/x86_64-linux-gnu/pkcs11/), ou donnez son chemin avec --module",
    }
    DoctorModuleBroken { en: "PKCS#11 module {path} does not load: {detail}", fr: "le module PKCS#11 {path} ne se charge pas : {detail}" }
    DoctorModuleBrokenFix { en: "reinstall the module (a file of the wrong architecture or a truncated copy does not load)", fr: "réinstallez le module (un fichier d'une autre architecture ou une copie tronquée ne se charge pas)" }
    DoctorProbeTimeout { en: "no answer within {secs} s", fr: "pas de réponse en {secs} s" }
    DoctorProbeCrashed { en: "the module crashed the process (signal {sig})", fr: "le module a fait planter le processus (signal {sig})" }
    DoctorProbeRv { en: "C_GetFunctionList returned {rv}", fr: "C_GetFunctionList a rendu {rv}" }
    DoctorOtherModule {
        en: "{db}: OpenSC is registered too (\"{name}\"); it also drives CPS3 cards, so Firefox may list the card twice",
        fr: "{db} : OpenSC est aussi enregistré (« {name} ») ; il pilote aussi les cartes CPS3, Firefox peut montrer la carte deux fois",
    }
    DoctorNssDbNotRegistered { en: "{db}: the cpscard module is not registered (Chromium and NSS tools do not see the card)", fr: "{db} : le module cpscard n'est pas enregistré (Chromium et les outils NSS ne voient pas la carte)" }
    DoctorPolicyRegistersStale { en: "Firefox policy {path} adds the old Cryptolib module ({library})", fr: "la politique Firefox {path} ajoute l'ancien module Cryptolib ({library})" }
    DoctorPolicyRegistersStaleFix { en: "remove that entry from SecurityDevices in {path}", fr: "retirez cette entrée de SecurityDevices dans {path}" }
    DoctorFirefoxNone { en: "no Firefox profile found under {dir}", fr: "aucun profil Firefox trouvé dans {dir}" }
    DoctorRegistered { en: "{db}: module registered as \"{name}\" ({library})", fr: "{db} : module enregistré sous « {name} » ({library})" }
    DoctorNotRegistered { en: "{db}: the cpscard module is not registered", fr: "{db} : le module cpscard n'est pas enregistré" }
    DoctorNotRegisteredFix {
        en: "close Firefox, then `modutil -dbdir sql:{dir} -add \"CPS (cpscard)\" -libfile {module}` (or `cps-tool register`)",
        fr: "fermez Firefox, puis `modutil -dbdir sql:{dir} -add \"CPS (cpscard)\" -libfile {module}` (ou `cps-tool register`)",
    }
    DoctorRegisteredByPolicy { en: "{db}: module added by the Firefox policy {policy}", fr: "{db} : module ajouté par la politique Firefox {policy}" }
    DoctorRegisteredMissingLib { en: "{db}: \"{name}\" points to {library}, which does not exist", fr: "{db} : « {name} » pointe vers {library}, qui n'existe pas" }
    DoctorRegisteredMissingLibFix {
        en: "close Firefox, then `modutil -dbdir sql:{dir} -delete \"{name}\"` and register the module again",
        fr: "fermez Firefox, puis `modutil -dbdir sql:{dir} -delete \"{name}\"` et enregistrez à nouveau le module",
    }
    DoctorDuplicate { en: "{db}: the cpscard module is registered {count} times", fr: "{db} : le module cpscard est enregistré {count} fois" }
    DoctorDuplicateFix {
        en: "keep one: close Firefox, then `modutil -dbdir sql:{dir} -delete \"{name}\"`",
        fr: "n'en gardez qu'un : fermez Firefox, puis `modutil -dbdir sql:{dir} -delete \"{name}\"`",
    }
    DoctorStale {
        en: "{db}: the old Cryptolib module is also registered (\"{name}\", {library}): both drive the same card",
        fr: "{db} : l'ancien module Cryptolib est aussi enregistré (« {name} », {library}) : les deux pilotent la même carte",
    }
    DoctorStaleFix {
        en: "close Firefox, then `modutil -dbdir sql:{dir} -delete \"{name}\"`",
        fr: "fermez Firefox, puis `modutil -dbdir sql:{dir} -delete \"{name}\"`",
    }
    DoctorStaleFile { en: "the old Cryptolib registration {path} is still installed ({library})", fr: "l'ancien enregistrement Cryptolib {path} est toujours installé ({library})" }
    DoctorStaleFileFix { en: "remove the old Cryptolib: `sudo rm {path}` (or uninstall the CryptolibCPS package)", fr: "retirez l'ancienne Cryptolib : `sudo rm {path}` (ou désinstallez le paquet CryptolibCPS)" }
    DoctorP11kitRegistered { en: "p11-kit: module registered by {path}", fr: "p11-kit : module enregistré par {path}" }
    DoctorP11kitNotRegistered { en: "p11-kit: the cpscard module is not registered (GnuTLS and p11-kit clients do not see the card)", fr: "p11-kit : le module cpscard n'est pas enregistré (GnuTLS et les clients p11-kit ne voient pas la carte)" }
    DoctorP11kitFix {
        en: "create {path} containing the line `module: {module}`",
        fr: "créez {path} contenant la ligne `module: {module}`",
    }
    DoctorP11kitMissingLib { en: "p11-kit: {path} points to {library}, which does not exist", fr: "p11-kit : {path} pointe vers {library}, qui n'existe pas" }
    DoctorP11kitMissingLibFix { en: "fix the `module:` line of {path}, or remove the file", fr: "corrigez la ligne `module:` de {path}, ou supprimez le fichier" }
    DoctorP11kitOursOff {
        en: "p11-kit: {path} registers the cpscard module, but `{key}:` in {file} disables it in every program",
        fr: "p11-kit : {path} enregistre le module cpscard, mais `{key}:` dans {file} le désactive dans tous les programmes",
    }
    DoctorP11kitOursOffFix { en: "remove the `{key}:` line of {file} (or the file itself)", fr: "supprimez la ligne `{key}:` de {file} (ou le fichier lui-même)" }
    DoctorP11kitOursExcept {
        en: "p11-kit: module registered by {path}, but not loaded in {programs} (disable-in, in {file})",
        fr: "p11-kit : module enregistré par {path}, mais pas chargé dans {programs} (disable-in, dans {file})",
    }
    DoctorP11kitOursOnly {
        en: "p11-kit: module registered by {path}, but loaded only in {programs} (enable-in, in {file})",
        fr: "p11-kit : module enregistré par {path}, mais chargé seulement dans {programs} (enable-in, dans {file})",
    }
    DoctorP11kitOursPartialFix {
        en: "if the other programs need the card, remove the `{key}:` line of {file}",
        fr: "si les autres programmes ont besoin de la carte, supprimez la ligne `{key}:` de {file}",
    }
    DoctorP11kitOpensc { en: "OpenSC", fr: "OpenSC" }
    DoctorP11kitCryptolib { en: "the old Cryptolib", fr: "l'ancienne Cryptolib" }
    DoctorP11kitConflict {
        en: "p11-kit: {path} loads {what} ({module}) in every program; it drives CPS cards too, so GnuTLS programs and p11-kit-proxy users see the card twice, driven by two modules",
        fr: "p11-kit : {path} charge {what} ({module}) dans tous les programmes ; il pilote aussi les cartes CPS, les programmes GnuTLS et ceux qui passent par p11-kit-proxy voient donc la carte deux fois, pilotée par deux modules",
    }
    DoctorP11kitConflictExcept {
        en: "p11-kit: {path} loads {what} ({module}) in every program but {programs} (disable-in, in {file}); it drives CPS cards too, so the others see the card twice",
        fr: "p11-kit : {path} charge {what} ({module}) dans tous les programmes sauf {programs} (disable-in, dans {file}) ; il pilote aussi les cartes CPS, les autres voient donc la carte deux fois",
    }
    DoctorP11kitConflictOnly {
        en: "p11-kit: {path} loads {what} ({module}) in {programs} only (enable-in, in {file}); it drives CPS cards too, so those see the card twice",
        fr: "p11-kit : {path} charge {what} ({module}) seulement dans {programs} (enable-in, dans {file}) ; il pilote aussi les cartes CPS, ceux-là voient donc la carte deux fois",
    }
    DoctorP11kitConflictOff {
        en: "p11-kit: {path} names {what} ({module}), but `{key}:` in {file} disables it in every program",
        fr: "p11-kit : {path} désigne {what} ({module}), mais `{key}:` dans {file} le désactive dans tous les programmes",
    }
    DoctorP11kitConflictFix {
        en: "for your account: create {user_file} with the line `module:` and nothing after it (p11-kit then skips {name} for you), or with `disable-in: p11-kit-proxy firefox-esr firefox` to keep it out of those programs only; {system}",
        fr: "pour votre compte : créez {user_file} avec la ligne `module:` sans rien après (p11-kit ignore alors {name} pour vous), ou avec `disable-in: p11-kit-proxy firefox-esr firefox` pour l'écarter de ces programmes seulement ; {system}",
    }
    DoctorP11kitConflictFixOwn {
        en: "{path} is your own file: remove it, or add the line `disable-in: p11-kit-proxy firefox-esr firefox` to keep it out of those programs only",
        fr: "{path} est votre propre fichier : supprimez-le, ou ajoutez-y la ligne `disable-in: p11-kit-proxy firefox-esr firefox` pour l'écarter de ces programmes seulement",
    }
    DoctorP11kitSystemPackage {
        en: "for every account: uninstall the package that installed {path} (`dpkg -S {path}` names it; OpenSC's is opensc-pkcs11) if nothing else needs it",
        fr: "pour tous les comptes : désinstallez le paquet qui a installé {path} (`dpkg -S {path}` le nomme ; celui d'OpenSC est opensc-pkcs11) si rien d'autre n'en a besoin",
    }
    DoctorP11kitSystemFile { en: "for every account: `sudo rm {path}`", fr: "pour tous les comptes : `sudo rm {path}`" }
    DoctorP11kitMalformed {
        en: "p11-kit: line {line} of {path} is not `name: value` ({text}); p11-kit then loads no module at all, in any program",
        fr: "p11-kit : la ligne {line} de {path} n'est pas de la forme `nom: valeur` ({text}) ; p11-kit ne charge alors plus aucun module, dans aucun programme",
    }
    DoctorP11kitMalformedFix { en: "correct or remove line {line} of {path}", fr: "corrigez ou supprimez la ligne {line} de {path}" }
    DoctorP11kitUnreadable { en: "p11-kit: cannot read {path} ({detail}); p11-kit skips it too", fr: "p11-kit : lecture de {path} impossible ({detail}) ; p11-kit l'ignore aussi" }
    DoctorP11kitUnreadableFix { en: "make it readable (`chmod a+r {path}`) or remove it", fr: "rendez-le lisible (`chmod a+r {path}`) ou supprimez-le" }
    DoctorP11kitUserConfigNone { en: "p11-kit: the user's module files are ignored (`user-config: none` in {path})", fr: "p11-kit : les fichiers de modules de l'utilisateur sont ignorés (`user-config: none` dans {path})" }
    DoctorP11kitUserConfigOnly { en: "p11-kit: the system's module files are ignored (`user-config: only` in {path})", fr: "p11-kit : les fichiers de modules du système sont ignorés (`user-config: only` dans {path})" }
    DoctorPrefTlsMax12Cps3 { en: "{profile}: security.tls.version.max = 3 (TLS 1.2): right for a CPS3", fr: "{profile} : security.tls.version.max = 3 (TLS 1.2) : adapté à une CPS3" }
    DoctorPrefTlsMax12Cps4 { en: "{profile}: security.tls.version.max = {value} caps Firefox below TLS 1.3, not needed with a CPS4", fr: "{profile} : security.tls.version.max = {value} bride Firefox sous TLS 1.3, inutile avec une CPS4" }
    DoctorPrefTlsMax12Cps4Fix { en: "reset security.tls.version.max in about:config (default 4)", fr: "réinitialisez security.tls.version.max dans about:config (4 par défaut)" }
    DoctorPrefTlsMaxDefault { en: "{profile}: security.tls.version.max = {value} (TLS 1.3 allowed)", fr: "{profile} : security.tls.version.max = {value} (TLS 1.3 autorisé)" }
    DoctorPrefTlsMaxLow { en: "{profile}: security.tls.version.max = {value} is below TLS 1.2: client authentication fails", fr: "{profile} : security.tls.version.max = {value} est sous TLS 1.2 : l'authentification échoue" }
    DoctorPrefTlsMaxLowFix { en: "set security.tls.version.max to 3 or 4 in about:config", fr: "mettez security.tls.version.max à 3 ou 4 dans about:config" }
    DoctorPrefPersonalCert { en: "{profile}: security.default_personal_cert = \"{value}\"", fr: "{profile} : security.default_personal_cert = « {value} »" }
    DoctorPrefPersonalCertOdd { en: "{profile}: security.default_personal_cert = \"{value}\" is not a value Firefox knows", fr: "{profile} : security.default_personal_cert = « {value} » n'est pas une valeur connue de Firefox" }
    DoctorPrefPersonalCertFix { en: "set it to \"Ask Every Time\" or \"Select Automatically\" in about:config", fr: "mettez « Ask Every Time » ou « Select Automatically » dans about:config" }
    DoctorPolicyTlsMax { en: "Firefox policy {path}: SSLVersionMax = \"{value}\"", fr: "politique Firefox {path} : SSLVersionMax = « {value} »" }
    DoctorPolicyUnreadable { en: "Firefox policy {path} is not valid JSON: {detail}", fr: "la politique Firefox {path} n'est pas du JSON valide : {detail}" }
    DoctorPolicyUnreadableFix { en: "fix or remove {path}: Firefox ignores every policy of a broken file", fr: "corrigez ou supprimez {path} : Firefox ignore toutes les politiques d'un fichier invalide" }
    DoctorDbUnreadable { en: "{db}: {path} cannot be read: {detail}", fr: "{db} : {path} illisible : {detail}" }
    DoctorDbUnreadableFix { en: "check the owner and permissions of {path}", fr: "vérifiez le propriétaire et les droits de {path}" }
    DoctorSkippedNoCard { en: "card checks skipped: no CPS card", fr: "vérifications de carte sautées : pas de carte CPS" }
    DoctorProfileName { en: "Firefox profile {name}", fr: "profil Firefox {name}" }
    DoctorNssDb { en: "NSS database {dir}", fr: "base NSS {dir}" }

    // ---------------------------------------------------------------- register
    RegisterFirefoxProfile { en: "Firefox profile {dir}", fr: "profil Firefox {dir}" }
    RegisterNssDb { en: "NSS database (Chromium) {dir}", fr: "base NSS (Chromium) {dir}" }
    RegisterP11kit { en: "p11-kit {file}", fr: "p11-kit {file}" }
    RegisterNoFirefox { en: "no Firefox profile under {dir} (start Firefox once, then run this again)", fr: "aucun profil Firefox dans {dir} (lancez Firefox une fois, puis relancez cette commande)" }
    RegisterAdded { en: "added \"{name}\" ({library})", fr: "« {name} » ajouté ({library})" }
    RegisterWouldAdd { en: "would add \"{name}\" ({library})", fr: "ajouterait « {name} » ({library})" }
    RegisterUpdated { en: "updated \"{name}\" to {library} (was {old})", fr: "« {name} » mis à jour vers {library} (avant : {old})" }
    RegisterWouldUpdate { en: "would update \"{name}\" to {library} (was {old})", fr: "mettrait à jour « {name} » vers {library} (avant : {old})" }
    RegisterAlready { en: "already registered (as \"{name}\")", fr: "déjà enregistré (sous « {name} »)" }
    RegisterRemoved { en: "removed \"{name}\"", fr: "« {name} » retiré" }
    RegisterWouldRemove { en: "would remove \"{name}\"", fr: "retirerait « {name} »" }
    RegisterAbsent { en: "not registered: nothing to remove", fr: "pas enregistré : rien à retirer" }
    RegisterNoDbNothingToRemove { en: "no NSS database: nothing to remove", fr: "pas de base NSS : rien à retirer" }
    RegisterSkippedOldDb { en: "skipped: old NSS database format (cert8.db); Firefox converts it when it next starts", fr: "ignoré : ancien format de base NSS (cert8.db) ; Firefox le convertit à son prochain démarrage" }
    RegisterSkippedNoDb { en: "skipped: no NSS database yet (start Firefox once with this profile)", fr: "ignoré : pas encore de base NSS (lancez Firefox une fois avec ce profil)" }
    RegisterWouldCreate { en: "would create the database and add \"{name}\" ({library})", fr: "créerait la base et ajouterait « {name} » ({library})" }
    RegisterCreated { en: "created the database; {what}", fr: "base créée ; {what}" }
    RegisterFirefoxRunning { en: "{what} (Firefox is running with this profile: restart it)", fr: "{what} (Firefox est ouvert avec ce profil : redémarrez-le)" }
    RegisterCertutilMissing { en: "cannot run certutil (package libnss3-tools) to create the database: {error}", fr: "impossible de lancer certutil (paquet libnss3-tools) pour créer la base : {error}" }
    RegisterCertutilFailed { en: "certutil -N failed: {error}", fr: "échec de certutil -N : {error}" }
    RegisterP11kitWritten { en: "written (module: {library})", fr: "écrit (module : {library})" }
    RegisterP11kitUpdated { en: "updated (module: {library})", fr: "mis à jour (module : {library})" }
    RegisterP11kitWouldWrite { en: "would be written (module: {library})", fr: "serait écrit (module : {library})" }
    RegisterP11kitWouldUpdate { en: "would be updated (module: {library})", fr: "serait mis à jour (module : {library})" }
    RegisterP11kitAlready { en: "already registered", fr: "déjà enregistré" }
    RegisterP11kitAlreadyOther { en: "already registered by {file}", fr: "déjà enregistré par {file}" }
    RegisterP11kitRemoved { en: "removed", fr: "retiré" }
    RegisterP11kitWouldRemove { en: "would be removed", fr: "serait retiré" }
    RegisterP11kitNotOurs { en: "left alone: not written by cps-tool", fr: "laissé tel quel : pas écrit par cps-tool" }
    RegisterP11kitForeign { en: "{file} exists and was not written by cps-tool: give another --p11-kit-dir", fr: "{file} existe et n'a pas été écrit par cps-tool : donnez un autre --p11-kit-dir" }
    RegisterLine { en: "{what}: {msg}", fr: "{what} : {msg}" }
    RegisterLineFailed { en: "{what}: FAILED: {error}", fr: "{what} : ÉCHEC : {error}" }
    RegisterSomeFailed { en: "{count} place(s) could not be updated", fr: "{count} emplacement(s) n'ont pas pu être mis à jour" }
    RegisterNoHome { en: "HOME is not set", fr: "HOME n'est pas défini" }
    RegisterBadName { en: "bad module name {name}: letters, digits, space . _ - ( ) only", fr: "nom de module invalide {name} : lettres, chiffres, espace . _ - ( ) seulement" }
    RegisterModuleUnreadable { en: "module {path}: {error}", fr: "module {path} : {error}" }
    RegisterModuleNotFile { en: "module {path} is not a file", fr: "le module {path} n'est pas un fichier" }
    RegisterNoModule { en: "no libcps_pkcs11.so found (looked for {paths}): give --module PATH", fr: "libcps_pkcs11.so introuvable (cherché : {paths}) : donnez --module CHEMIN" }
    // ---------------------------------------------------------------- --help
    AboutTool { en: "CPS3/CPS4 card tool", fr: "outil pour les cartes CPS3/CPS4" }
    HelpReader { en: "PC/SC reader to use (default: the first reader holding a card)", fr: "lecteur PC/SC à utiliser (par défaut : le premier qui contient une carte)" }
    HelpEmulated { en: "use a built-in emulated card in an in-process reader instead (no pcscd needed); its keys are TEST keys", fr: "utiliser plutôt une carte émulée intégrée dans un lecteur interne (sans pcscd) ; ses clés sont des clés de TEST" }
    HelpCard { en: "holder kind of the emulated card: cps, cpf, cpe, cpa, cde or cps-expired", fr: "type de porteur de la carte émulée : cps, cpf, cpe, cpa, cde ou cps-expired" }
    HelpImage { en: "card image of the emulated card: loaded, or created from the built-in card; its counters (PIN tries, ...) are saved back at every change", fr: "image de la carte émulée : chargée, ou créée depuis la carte intégrée ; ses compteurs (essais du code...) y sont enregistrés à chaque changement" }
    HelpWait { en: "wait for a card when the reader is empty (Ctrl-C stops)", fr: "attendre une carte si le lecteur est vide (Ctrl-C arrête)" }
    HelpFault { en: "testing: inject a fault into the emulated card", fr: "tests : injecter un défaut dans la carte émulée" }
    HelpVerbose { en: "more log output (-v info, -vv debug, -vvv APDU traces with PINs masked); RUST_LOG overrides", fr: "plus de journal (-v info, -vv débogage, -vvv traces APDU, codes masqués) ; RUST_LOG a priorité" }
    HelpJson { en: "print JSON (stable schema, docs/json-schema.md) instead of text", fr: "afficher du JSON (schéma stable, docs/json-schema.md) au lieu de texte" }
    HelpPinFile { en: "read the PIN from this file (first line) instead of asking", fr: "lire le code porteur dans ce fichier (première ligne) au lieu de le demander" }
    HelpPukFile { en: "read the PUK from this file (first line) instead of asking", fr: "lire le code de déblocage dans ce fichier (première ligne) au lieu de le demander" }
    HelpNewPinFile { en: "read the new PIN from this file (first line) instead of asking", fr: "lire le nouveau code porteur dans ce fichier (première ligne) au lieu de le demander" }
    HelpCmdReaders { en: "list the PC/SC readers (or the emulated one) with card presence and ATR", fr: "lister les lecteurs PC/SC (ou l'émulé) avec la présence de carte et l'ATR" }
    HelpCmdApdu { en: "send raw APDUs in order, in one card transaction (no automatic GET RESPONSE)", fr: "envoyer des APDU bruts dans l'ordre, en une transaction (sans GET RESPONSE automatique)" }
    HelpCmdEmulate { en: "serve an emulated card to pcscd through vpcd until SIGTERM/SIGINT", fr: "servir une carte émulée à pcscd via vpcd jusqu'à SIGTERM/SIGINT" }
    HelpCmdInfo { en: "card kind, generation, ATR, serial, token label, holder, PIN/PUK tries left", fr: "type de carte, génération, ATR, numéro, libellé, porteur, essais restants" }
    HelpCmdCerts { en: "list the card's certificates (and export them)", fr: "lister les certificats de la carte (et les exporter)" }
    HelpCmdObjects { en: "list the card's objects: certificates, keys, data objects", fr: "lister les objets de la carte : certificats, clés, objets de données" }
    HelpCmdPin { en: "PIN status, verify, change, unblock", fr: "état, vérification, changement, déblocage du code porteur" }
    HelpCmdPinStatus { en: "PIN and PUK tries left (no PIN needed, no try used)", fr: "essais restants du code porteur et du code de déblocage (sans code, sans consommer d'essai)" }
    HelpCmdPinVerify { en: "check the PIN (a wrong one uses a try)", fr: "vérifier le code porteur (une erreur consomme un essai)" }
    HelpCmdPinChange { en: "change the PIN (old PIN, then the new one twice)", fr: "changer le code porteur (l'ancien, puis deux fois le nouveau)" }
    HelpCmdPinUnblock { en: "unblock the PIN with the PUK and set a new PIN", fr: "débloquer le code porteur avec le code de déblocage et en fixer un nouveau" }
    HelpCmdSign { en: "sign a file with a card key; the signature is written raw (as `openssl dgst -verify` reads it)", fr: "signer un fichier avec une clé de la carte ; signature brute (lisible par `openssl dgst -verify`)" }
    HelpCmdVerify { en: "verify a signature with the card's certificate, in software (no PIN)", fr: "vérifier une signature avec le certificat de la carte, en logiciel (sans code)" }
    HelpCmdDecrypt { en: "decrypt a PKCS#1 v1.5 RSA cryptogram with the authentication key", fr: "déchiffrer un cryptogramme RSA PKCS#1 v1.5 avec la clé d'authentification" }
    HelpCmdDoctor { en: "check the whole chain (PC/SC, readers, card, PIN tries, module, Firefox/NSS/p11-kit registrations) and tell how to fix each problem", fr: "vérifier toute la chaîne (PC/SC, lecteurs, carte, essais, module, enregistrements Firefox/NSS/p11-kit) et dire comment corriger chaque problème" }
    HelpCmdCompletions { en: "print a shell completion script (bash, zsh, fish)", fr: "afficher un script de complétion (bash, zsh, fish)" }
    HelpCmdCache { en: "the module's cache of public card files: path, show, clear", fr: "le cache des fichiers publics des cartes (module) : path, show, clear" }
    HelpCmdCachePath { en: "print the cache directory", fr: "afficher le répertoire du cache" }
    HelpCmdCacheShow { en: "list the cards in the cache with their files and sizes", fr: "lister les cartes du cache avec leurs fichiers et tailles" }
    HelpCmdCacheClear { en: "remove every cached file (each card is then read in full at its next use)", fr: "supprimer tous les fichiers du cache (chaque carte est relue en entier à sa prochaine utilisation)" }
    HelpCacheDir { en: "cache directory (default: $XDG_CACHE_HOME/cpscard, else ~/.cache/cpscard)", fr: "répertoire du cache (par défaut : $XDG_CACHE_HOME/cpscard, sinon ~/.cache/cpscard)" }
    CacheNoDir { en: "no cache directory: neither XDG_CACHE_HOME nor HOME is set (give --dir)", fr: "pas de répertoire de cache : ni XDG_CACHE_HOME ni HOME ne sont définis (donnez --dir)" }
    CacheEmpty { en: "{dir}: empty", fr: "{dir} : vide" }
    CacheCard { en: "{card}: {files} files, {bytes} bytes", fr: "{card} : {files} fichiers, {bytes} octets" }
    CacheCleared { en: "{dir}: {files} files of {cards} cards removed", fr: "{dir} : {files} fichiers de {cards} cartes supprimés" }
    BenchStepFailed { en: "bench: {step}: {detail}", fr: "bench : {step} : {detail}" }
    BenchFirstSignature { en: "first signature: one warm-up run then {runs} runs per module, each in a new process", fr: "première signature : un tour de chauffe puis {runs} tours par module, chacun dans un nouveau processus" }
    BenchPolling { en: "polling loop: {rounds} rounds per module", fr: "boucle de scrutation : {rounds} tours par module" }
    BenchThreads { en: "signatures with 1, 2 and 8 threads ({signatures} each)", fr: "signatures avec 1, 2 et 8 fils ({signatures} chaque fois)" }
    BenchOverhead { en: "per-APDU overhead in {reader}", fr: "surcoût par APDU dans {reader}" }
    BenchTitle { en: "Emulated {card} in {reader} through pcscd + vpcd, realistic latency; medians of {runs} runs. Values: ours / OpenSC / vendor.", fr: "{card} émulée dans {reader} via pcscd + vpcd, latence réaliste ; médianes de {runs} tours. Valeurs : nous / OpenSC / éditeur." }
    BenchHeader { en: "| measure | ours / OpenSC / vendor | target | met |", fr: "| mesure | nous / OpenSC / éditeur | cible | atteinte |" }
    BenchNothing { en: "nothing to measure: give --stats (the emulator's counters) and/or --overhead-vpcd", fr: "rien à mesurer : donnez --stats (les compteurs de l'émulateur) et/ou --overhead-vpcd" }
    BenchMet { en: "yes", fr: "oui" }
    BenchNotMet { en: "NO", fr: "NON" }
    BenchRowFirstSig { en: "time to first signature (dlopen, find the AUT key, login, sign), ms", fr: "temps jusqu'à la première signature (dlopen, clé AUT, login, signature), ms" }
    BenchRowFirstSigCold { en: "the same, first run (ours: empty cache), ms", fr: "idem, premier tour (nous : cache vide), ms" }
    BenchRowApdus { en: "APDUs of that sequence", fr: "APDU de cette séquence" }
    BenchRowPolling { en: "polling (slot list, token info, all objects and attributes): first round; the {rest} others", fr: "scrutation (slots, infos du jeton, tous les objets et attributs) : premier tour ; les {rest} autres" }
    BenchRowRss { en: "RSS after loading the module and enumerating, MiB (ours: at start → after the polling loop)", fr: "RSS après chargement du module et énumération, Mio (nous : au départ → après la scrutation)" }
    BenchRowOverhead { en: "time per APDU (10th percentile), our transport + APDU layer / bare SCardTransmit (no latency)", fr: "temps par APDU (10e centile), notre transport + couche APDU / SCardTransmit seul (sans latence)" }
    BenchRowThreads { en: "signatures/s with 1 / 2 / 8 threads (ours)", fr: "signatures/s avec 1 / 2 / 8 fils (nous)" }
    BenchTargetHalf { en: "≤ 0.5× OpenSC", fr: "≤ 0,5× OpenSC" }
    BenchTargetNone { en: "—", fr: "—" }
    BenchTargetFewer { en: "fewer than the vendor and OpenSC", fr: "moins que l'éditeur et OpenSC" }
    BenchTargetZero { en: "0 APDUs after the first round, no more than the others in each part", fr: "0 APDU après le premier tour, pas plus que les autres dans chaque partie" }
    BenchTargetOverhead { en: "≤ 1.05×", fr: "≤ 1,05×" }
    BenchTargetThreads { en: "8 threads ≥ 0.9× 1 thread, 0 errors", fr: "8 fils ≥ 0,9× 1 fil, 0 erreur" }
    BenchVendorQuoted { en: "{quoted} (quoted)", fr: "{quoted} (cité)" }
    BenchVendorMeasured { en: "{measured} (quoted: {quoted})", fr: "{measured} (cité : {quoted})" }
    BenchApduCell { en: "{ours} (empty cache: {cold}) / {opensc} / {vendor}", fr: "{ours} (cache vide : {cold}) / {opensc} / {vendor}" }
    BenchPollCell { en: "{first_ms} ms, {first_apdus} APDUs; {rest_ms} ms, {rest_apdus} APDUs", fr: "{first_ms} ms, {first_apdus} APDU ; {rest_ms} ms, {rest_apdus} APDU" }
    BenchOverheadCell { en: "{ours} µs / {raw} µs = {ratio}× (our transport alone: {transport} µs; medians {ours_median} / {raw_median} µs)", fr: "{ours} µs / {raw} µs = {ratio}× (notre transport seul : {transport} µs ; médianes {ours_median} / {raw_median} µs)" }
    BenchThreadsCell { en: "{one} / {two} / {eight} ({ratio}×), {errors} errors", fr: "{one} / {two} / {eight} ({ratio}×), {errors} erreurs" }
    BenchErrNoToken { en: "no token in reader {reader} ({slots} slot(s) with a token)", fr: "pas de jeton dans le lecteur {reader} ({slots} emplacement(s) avec jeton)" }
    BenchErrNoKey { en: "no private key with CKA_ID {id}", fr: "pas de clé privée de CKA_ID {id}" }
    BenchErrNoCert { en: "no certificate with CKA_ID {id}, or without CKA_VALUE", fr: "pas de certificat de CKA_ID {id}, ou sans CKA_VALUE" }
    BenchErrBadSignature { en: "the signature does not verify: {detail}", fr: "la signature n'est pas valide : {detail}" }
    BenchErrObjects { en: "{seen} objects in a round, {first} in the first one", fr: "{seen} objets dans un tour, {first} dans le premier" }
    BenchErrNoClass { en: "an object without CKA_CLASS", fr: "un objet sans CKA_CLASS" }
    BenchErrPanic { en: "a signing thread panicked", fr: "un fil de signature a paniqué" }
    BenchErrAnswer { en: "{side}: the card answered {answer}", fr: "{side} : la carte a répondu {answer}" }
    BenchErrStats { en: "{path}: no APDU count ({detail}); is `cps-tool emulate --stats {path}` running?", fr: "{path} : pas de compte d'APDU ({detail}) ; `cps-tool emulate --stats {path}` tourne-t-il ?" }
    HelpCmdManpage { en: "print the man page (roff)", fr: "afficher la page de manuel (roff)" }
    HelpCmdRegister { en: "register the PKCS#11 module with every Firefox profile, ~/.pki/nssdb (Chromium) and p11-kit; --remove undoes it", fr: "enregistrer le module PKCS#11 dans chaque profil Firefox, ~/.pki/nssdb (Chromium) et p11-kit ; --remove l'annule" }
    HelpRegisterModule { en: "PKCS#11 module to register (default: the installed libcps_pkcs11.so, else the one next to cps-tool)", fr: "module PKCS#11 à enregistrer (par défaut : libcps_pkcs11.so installé, sinon celui à côté de cps-tool)" }
    HelpRegisterRemove { en: "remove what register added (entries with that name, or loading that module)", fr: "retirer ce que register a ajouté (entrées de ce nom, ou chargeant ce module)" }
    HelpRegisterDryRun { en: "show what would change, change nothing", fr: "montrer ce qui changerait, ne rien changer" }
    HelpRegisterName { en: "module name in the NSS databases (what Firefox shows under Security Devices)", fr: "nom du module dans les bases NSS (ce que Firefox affiche dans Périphériques de sécurité)" }
    HelpRegisterP11kitDir { en: "p11-kit module directory (default: $XDG_CONFIG_HOME/pkcs11/modules, else ~/.config/pkcs11/modules; /etc/pkcs11/modules as root)", fr: "répertoire des modules p11-kit (par défaut : $XDG_CONFIG_HOME/pkcs11/modules, sinon ~/.config/pkcs11/modules ; /etc/pkcs11/modules pour root)" }
    HelpApduHex { en: "command APDUs in hex; spaces and colons are allowed inside one (\"00 A4:04 0C ...\")", fr: "APDU de commande en hexadécimal ; espaces et deux-points permis (\"00 A4:04 0C ...\")" }
    HelpEmulateCard { en: "card generation to emulate", fr: "génération de carte à émuler" }
    HelpEmulateHolder { en: "holder kind: cps, cpf, cpe, cpa, cde or cps-expired", fr: "type de porteur : cps, cpf, cpe, cpa, cde ou cps-expired" }
    HelpEmulateImage { en: "card image: loaded, or created from the built-in card; counters are saved back", fr: "image de carte : chargée, ou créée depuis la carte intégrée ; compteurs enregistrés" }
    HelpEmulateVpcd { en: "vpcd address (slot 0 of a Debian vpcd is 127.0.0.1:35963, slot 1 :35964)", fr: "adresse de vpcd (emplacement 0 d'un vpcd Debian : 127.0.0.1:35963, emplacement 1 : 35964)" }
    HelpEmulateLatency { en: "card timing (none, or realistic: delays of a real card behind a CCID reader)", fr: "temps de réponse (none, ou realistic : délais d'une vraie carte derrière un lecteur CCID)" }
    HelpCertsExport {
        en: "write each certificate into this directory: auth.der, sign.der (tech.der, ca-N.der; .pem with --pem)",
        fr: "écrire chaque certificat dans ce répertoire : auth.der, sign.der (tech.der, ca-N.der ; .pem avec --pem)",
    }
    HelpCertsPem { en: "export PEM instead of DER", fr: "exporter en PEM plutôt qu'en DER" }
    HelpKey { en: "which key: sign (non-repudiation) or auth (authentication)", fr: "quelle clé : sign (non-répudiation) ou auth (authentification)" }
    HelpMechanism { en: "signature mechanism", fr: "mécanisme de signature" }
    HelpIn {
        en: "input file: the message (pkcs1-raw: a DigestInfo or a hash; pss-raw: a hash; raw: a block)",
        fr: "fichier d'entrée : le message (pkcs1-raw : un DigestInfo ou une empreinte ; pss-raw : une empreinte ; raw : un bloc)",
    }
    HelpMechPkcs1 { en: "RSA PKCS#1 v1.5 over the {hash} of the file", fr: "RSA PKCS#1 v1.5 sur l'empreinte {hash} du fichier" }
    HelpMechPss { en: "RSA-PSS over the {hash} of the file (MGF1-{hash}, salt = hash length)", fr: "RSA-PSS sur l'empreinte {hash} du fichier (MGF1-{hash}, sel = longueur de l'empreinte)" }
    HelpMechPkcs1Raw { en: "RSA PKCS#1 v1.5 of the file as it is (a DigestInfo, or a bare hash)", fr: "RSA PKCS#1 v1.5 du fichier tel quel (un DigestInfo, ou une empreinte)" }
    HelpMechPssRaw { en: "RSA-PSS of the file taken as a hash of 20, 32, 48 or 64 bytes (MGF1 same hash, salt = hash length)", fr: "RSA-PSS du fichier pris comme empreinte de 20, 32, 48 ou 64 octets (MGF1 même empreinte, sel = sa longueur)" }
    HelpMechRaw { en: "raw RSA of the file as a block, zero-padded on the left (CPS4 authentication key)", fr: "RSA brut du fichier pris comme bloc, complété de zéros à gauche (clé d'authentification CPS4)" }
    HelpLogin { en: "verify the PIN first, to list the private data objects too", fr: "vérifier d'abord le code porteur, pour lister aussi les objets de données privés" }
    HelpPinentry {
        en: "ask the PIN with this pinentry program (pinentry-gnome3, pinentry-curses...) instead of the terminal",
        fr: "demander le code avec ce programme pinentry (pinentry-gnome3, pinentry-curses...) plutôt que dans le terminal",
    }
    HelpOut { en: "output file", fr: "fichier de sortie" }
    HelpSignature { en: "signature file (raw bytes)", fr: "fichier de signature (octets bruts)" }
    HelpDecryptIn { en: "cryptogram file (raw RSA block, 256 bytes)", fr: "fichier du cryptogramme (bloc RSA brut, 256 octets)" }
    HelpModule { en: "PKCS#11 module to check (default: the installed libcps_pkcs11.so)", fr: "module PKCS#11 à vérifier (par défaut : libcps_pkcs11.so installé)" }
    HelpShell { en: "shell", fr: "shell" }
    ExitCodesHelp {
        en: "Exit codes:\n  0  success\n  1  other failure (card or reader error, card image error)\n  2  usage error or bad input (nothing was sent to the card)\n  3  no PC/SC service (pcscd is not running)\n  4  no reader (none at all, or the one named by --reader)\n  5  no card (empty reader, or the card was removed)\n  6  unknown card (not a CPS3/CPS4 card)\n  7  PIN or PUK wrong (tries left are printed)\n  8  PIN or PUK blocked\n  9  doctor found at least one problem\n 10  signature does not verify\n130  interrupted (Ctrl-C)",
        fr: "Codes de sortie :\n  0  succès\n  1  autre échec (erreur de carte ou de lecteur, image de carte)\n  2  erreur d'utilisation ou saisie invalide (rien n'a été envoyé à la carte)\n  3  pas de service PC/SC (pcscd n'est pas démarré)\n  4  pas de lecteur (aucun, ou pas celui de --reader)\n  5  pas de carte (lecteur vide, ou carte retirée)\n  6  carte inconnue (pas une carte CPS3/CPS4)\n  7  code porteur ou de déblocage erroné (les essais restants sont affichés)\n  8  code porteur ou de déblocage bloqué\n  9  doctor a trouvé au moins un problème\n 10  signature non valide\n130  interrompu (Ctrl-C)",
    }
}
