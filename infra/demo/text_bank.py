"""Text fragments of the demo data set (all written for Écoute; fictional brand "Maison Aurore").

Comments are composed as opener + body + closer, the bodies filled with slots ({p} product,
{p2} another product, {c} city, {d} days, {o} order number, {n} amount, {m} @mention, {carrier}
…) and then roughened by ``generate_sample.roughen`` (typos, elongations, SMS spelling, case).
Each bank is a newline-separated block, so adding a variant is adding a line.
"""

from __future__ import annotations


def lines(block: str) -> list[str]:
    return [line.strip() for line in block.strip().splitlines() if line.strip()]


PRODUCTS_FR = lines("""
la crème Rosée du Matin
le sérum Éclat de Lin
la bougie Figue & Cèdre
le gel douche Fleur d'Oranger
le baume lèvres Miel d'Acacia
le coffret Jours Dorés
le shampoing solide Ortie
la brume Ambre Doux
le savon Lavande de Provence
l'huile sèche Immortelle
le diffuseur Bois Flotté
la bougie Pomme d'Automne
le lait corps Amande Douce
le masque Argile Rose
la crème mains Verveine
le calendrier de l'Avent
""")

PRODUCTS_EN = lines("""
the Morning Dew cream
the Linen Glow serum
the Fig & Cedar candle
the Orange Blossom shower gel
the Acacia Honey lip balm
the Golden Days gift box
the Nettle shampoo bar
the Soft Amber mist
the Provence Lavender soap
the Immortelle dry oil
the Driftwood diffuser
the Autumn Apple candle
the advent calendar
""")

# Short product names used by the other languages (brand names stay French).
PRODUCTS_SHORT = lines("""
Rosée du Matin
Éclat de Lin
Figue & Cèdre
Fleur d'Oranger
Miel d'Acacia
Jours Dorés
Ambre Doux
Immortelle
Bois Flotté
Pomme d'Automne
Argile Rose
""")

CITIES = lines("""
Paris
Lyon
Marseille
Bordeaux
Lille
Nantes
Toulouse
Rennes
Strasbourg
Montpellier
Nice
Grenoble
Dijon
Tours
Angers
Reims
Le Havre
Clermont-Ferrand
Annecy
Metz
""")

EMOJI_POS = lines("""
😍
❤️
🥰
✨
👏
💕
🙌
🔥
😊
🤩
💯
🌸
💗
🍂
🕯️
""")
EMOJI_NEG = lines("""
😡
😤
🤬
👎
😠
🙄
😒
😞
💢
""")
EMOJI_SAD = lines("""
😭
😢
🥲
😩
😔
""")

HASHTAGS_POS = lines("""
#maisonaurore
#joursaurore
#skincare
#routinebeauté
#madeinfrance
#cocooning
#automne
#bougie
#octobrerose
#cadeau
""")
HASHTAGS_NEG = lines("""
#déçue
#déçu
#arnaque
#boycott
#servicecliento
#plusjamais
#honte
""")

# ---------------------------------------------------------------------------------------------
# French
# ---------------------------------------------------------------------------------------------
FR = {
    "praise_open": lines("""
        Franchement
        Alors là
        Ohhh
        Honnêtement
        Coup de cœur !
        Je valide
        Trop bien
        Enfin !
        Waouh
        Je dois dire que
        Mon avis :
        Testé et approuvé :
        Petit mot pour dire que
        Bravo,
        Merci Maison Aurore,
    """),
    "praise": lines("""
        j'adore {p}, {reason}
        {p} c'est une tuerie, {reason}
        meilleur achat de l'année, {p} {reason2}
        je rachète {p} pour la {nth} fois
        ma fille m'a offert {p} et depuis je ne m'en passe plus
        l'odeur de {p} est incroyable
        la vendeuse de {c} était adorable, merci à elle
        livraison en {d2} jours, emballage nickel
        vous avez les plus beaux coffrets
        toujours aussi qualitatif, bravo à toute l'équipe
        ça sent trop bon, {reason}
        {p} + {p2} = combo parfait
        j'ai offert {p} à ma mère, elle est fan
        depuis que j'utilise {p} {reason2}
        le nouveau packaging est sublime
        enfin une marque française qui tient ses promesses
        service client au top, réponse en {h} heures et problème réglé
        je suis passée à la boutique de {c}, super accueil
        {p} est devenu indispensable dans ma routine
        j'en suis à mon {nth} pot de {p}
        l'appli est beaucoup plus fluide depuis la mise à jour
        vos vidéos tuto m'ont bien aidée
        bravo pour l'engagement Octobre Rose
        rien à dire, {p} {reason2}
        je recommande les yeux fermés
        commande reçue ce matin, {reason}
    """),
    "reason": lines("""
        ma peau est toute douce
        ça tient toute la journée
        l'odeur est juste parfaite
        le packaging est magnifique
        ça dure des mois
        aucune irritation même avec ma peau sensible
        ça sent l'automne
        ma salle de bain sent trop bon
        la texture est fondante
        tout le salon sent bon
        je suis conquise
        j'ai plein de compliments
    """),
    "reason2": lines("""
        a changé ma peau
        tient ses promesses
        sent divinement bon
        ne m'a jamais déçue
        vaut vraiment son prix
        est parfait pour l'hiver
        a sauvé mes mains abîmées
    """),
    "praise_close": lines("""
        !!
        ❤️
        😍😍
        merci 🙏
        continuez comme ça
        👏👏
        vivement la suite
        je suis fan
        🥰
        bravo
        on en veut encore
        ✨✨✨
    """),
    "question_open": lines("""
        Bonjour,
        Hello
        Coucou
        Bonsoir
        Petite question :
        Salut
        Bonjour à l'équipe,
        Question bête mais
        Quelqu'un sait
        Hello la team,
    """),
    "question": lines("""
        est-ce que {p} convient aux peaux sensibles ?
        {p} sera de retour en stock quand ?
        c'est dispo en magasin à {c} ?
        vous livrez en Belgique ?
        vous livrez en Suisse ?
        comment on utilise le code promo sur l'appli ?
        le coffret Jours Dorés est encore dispo ?
        {p} est vegan ?
        il existe une version sans parfum de {p} ?
        quelle est la différence entre {p} et {p2} ?
        vous faites des recharges pour {p} ?
        c'est fabriqué où exactement ?
        ma commande {o} est partie ?
        jusqu'à quand dure l'offre ?
        on peut retourner un produit ouvert ?
        la carte fidélité marche aussi sur le site ?
        c'est quoi le délai de livraison en ce moment ?
        {p} existe en grand format ?
        on peut l'utiliser enceinte ?
        la bougie brûle combien d'heures ?
        vous recrutez pour la boutique de {c} ?
        le calendrier de l'Avent sort quand ?
        il y aura une boutique à {c} un jour ?
        c'est compatible avec une peau acnéique ?
        on peut payer en plusieurs fois ?
        vous acceptez les cartes cadeaux en ligne ?
        la musique de la vidéo c'est quoi ?
        comment on fait pour suivre son colis ?
    """),
    "question_close": lines("""
        merci !
        Merci d'avance
        svp
        🙏
        merci bcp
        Belle journée
        ?
        merci pour votre réponse
    """),
    "complaint_open": lines("""
        Franchement
        Très déçue.
        Très déçu.
        Honteux.
        Bonjour,
        Sérieusement ?
        Inadmissible !
        Encore une fois
        Je suis vraiment déçue,
        Ras-le-bol.
        Ça devient n'importe quoi.
        Bonjour, toujours pas de nouvelles :
        Je ne comprends pas,
        Allô ?
        C'est une blague ?
        Cliente depuis {y} ans et
    """),
    "complaint_close": lines("""
        😡
        😤
        !!!
        merci de me répondre
        je ne commanderai plus
        vraiment déçue
        c'est la dernière fois
        on attend une réponse
        👎
        pas sérieux
        c'est lamentable
        ça commence à bien faire
        je vais finir par aller voir ailleurs
        vous comptez faire quelque chose ?
    """),
    "complaint": {
        "delivery": lines("""
            ça fait {d} jours que j'attends ma commande {o}, toujours rien
            colis marqué livré mais jamais reçu
            livraison annoncée en 48h, j'en suis à {d} jours
            le livreur n'est même pas passé et le suivi dit "destinataire absent"
            colis arrivé ouvert et à moitié vide
            le point relais dit qu'il n'a rien reçu
            commande {o} bloquée "en préparation" depuis {d} jours
            mon colis fait le tour de la France depuis une semaine
            le suivi n'a pas bougé depuis {d} jours
            livré chez le voisin du dessous sans prévenir
            flacon cassé à la livraison, tout a coulé dans le carton
        """),
        "price": lines("""
            {n}€ pour {p}, sérieux ?
            les prix ont pris 20% en un an, c'est abusé
            {p} a encore augmenté
            trop cher pour ce que c'est
            les frais de port à {fp}€ c'est non
            {n}€ le petit pot, vous vous moquez du monde
            même prix qu'une marque de luxe pour moitié moins de produit
            le coffret à {n}€ avec trois miniatures dedans...
        """),
        "quality": lines("""
            {p} a changé de formule et c'est beaucoup moins bien
            le pot de {p} fuyait à l'ouverture
            {p} m'a donné des boutons
            la bougie a coulé au bout de {h} heures
            l'odeur de {p} ne tient pas du tout
            la pompe du flacon est cassée dès le premier jour
            {p} a tourné au bout de deux semaines
            la mèche de la bougie s'est noyée au premier allumage
            {p} pique les yeux
            texture de {p} toute granuleuse, c'est pas normal
        """),
        "customer_service": lines("""
            j'ai envoyé {k} mails au service client, aucune réponse
            {t} minutes d'attente au téléphone pour qu'on me raccroche au nez
            le chat sur le site ne répond jamais
            on m'a promis un remboursement il y a {d} jours
            service client injoignable
            réponse automatique à chaque fois, aucun humain
            on me renvoie d'un service à l'autre depuis {d} jours
            la conseillère m'a parlé comme à une idiote
        """),
        "app_website": lines("""
            l'appli plante à chaque fois que je veux payer
            impossible de me connecter à mon compte depuis la mise à jour
            le site affiche en stock mais au panier c'est en rupture
            paiement refusé sur le site alors que ma carte marche partout
            le code promo ne passe pas sur l'appli
            le site est d'une lenteur
            mes points fidélité ont disparu de l'appli
            le panier se vide tout seul
        """),
        "billing": lines("""
            j'ai été débitée deux fois pour la commande {o}
            toujours pas remboursée de mon retour
            on m'a facturé les frais de port alors que c'était offert
            prélèvement de {n}€ que je ne reconnais pas
            retour renvoyé il y a {d} jours et pas un centime remboursé
            la facture ne correspond pas à ce que j'ai payé
        """),
        "promotions": lines("""
            la promo -30% ne s'applique pas sur {p}
            jeu concours truqué, c'est toujours les mêmes qui gagnent
            offre "jusqu'à -50%" et en vrai tout est à -10%
            le cadeau offert n'était pas dans le colis
            les clientes fidèles n'ont jamais rien
            le code anniversaire a expiré avant même d'arriver
            promo annoncée sur Insta mais introuvable sur le site
        """),
        "store": lines("""
            boutique de {c} : vendeuse désagréable
            à {c} le magasin était fermé à 18h alors que c'est affiché 19h
            {t} minutes de queue en caisse à {c} avec une seule caisse ouverte
            rayon vide au magasin de {c}
            on m'a refusé un échange en boutique
            la boutique de {c} ne prend plus la carte fidélité
            personne pour conseiller à {c}, tout le monde sur son téléphone
        """),
        "csr": lines("""
            encore du plastique partout, vous parlez d'écologie mais bon
            Octobre Rose c'est bien mais combien vous reversez vraiment ?
            fabriqué en France ? Sur l'étiquette c'est écrit autre chose
            c'est du greenwashing pur et simple
            vos emballages ne sont pas recyclables, arrêtez de dire le contraire
            trois cartons et du papier bulle pour un baume à lèvres, bravo la planète
            vous testez sur les animaux pour vendre en Chine ou pas ?
        """),
    },
    "constructive_open": lines("""
        Petite remarque constructive :
        Je me permets :
        Cliente fidèle depuis {y} ans, mais
        Sans vouloir râler,
        Un conseil :
        Bonjour,
        Retour d'expérience :
        Pour info,
        Suggestion :
        J'adore la marque donc je le dis gentiment :
    """),
    "cause": {
        "delivery": lines("""
            depuis que vous êtes passés chez {carrier} les colis mettent {d} jours
            le problème vient du point relais de mon quartier qui est toujours plein
            le suivi n'est envoyé qu'à la livraison, donc on n'a aucune info pendant {d} jours
            vos colis partent le vendredi et restent tout le week-end à l'entrepôt
            le livreur ne sonne pas, il dépose directement un avis de passage
        """),
        "price": lines("""
            on paie surtout le pot en verre et le carton
            la hausse de {p} est bien plus forte que l'inflation
            les frais de port mangent toute la promo
        """),
        "quality": lines("""
            depuis le changement de formule de {p} la texture est plus liquide
            la pompe casse parce que le ressort est en plastique
            la mèche est trop fine pour la taille de la bougie
            le couvercle de {p} ne ferme pas bien, donc ça sèche
        """),
        "customer_service": lines("""
            on renvoie trois fois le même mail faute d'accusé de réception
            le chat n'est ouvert qu'en journée quand tout le monde travaille
            chaque conseiller redemande le numéro de commande depuis le début
        """),
        "app_website": lines("""
            le panier se vide quand on applique un code promo puis qu'on change d'adresse
            le paiement échoue à l'étape 3D Secure sur l'appli Android
            la page produit indique "en stock" à partir d'un stock pas à jour
            la connexion plante depuis la version {v} de l'appli
        """),
        "billing": lines("""
            le double prélèvement arrive quand la page de paiement expire et qu'on reclique
            le remboursement d'un retour dépend d'un scan au point relais qui se perd
        """),
        "promotions": lines("""
            la moitié des produits sont exclus de la promo mais ce n'est écrit nulle part
            les codes arrivent par mail après la fin de l'offre
            le tirage au sort n'est jamais annoncé publiquement
        """),
        "store": lines("""
            le samedi à {c} il n'y a qu'une caisse pour tout le magasin
            les horaires sur Google ne sont pas ceux de la boutique de {c}
            le réassort de la boutique de {c} arrive le mardi, donc le week-end c'est vide
        """),
        "csr": lines("""
            les pots en verre partent à la poubelle faute de collecte
            le carton d'expédition est trois fois trop grand pour les petites commandes
            le chiffre reversé pour Octobre Rose n'est indiqué nulle part
        """),
    },
    "suggestion": {
        "delivery": lines("""
            Proposez le retrait gratuit en boutique, ce serait plus simple.
            Envoyez le numéro de suivi dès l'expédition svp.
            Laissez-nous choisir le transporteur au moment de payer.
            Un créneau de livraison éviterait tous ces allers-retours.
        """),
        "price": lines("""
            Un format recharge moins cher éviterait de racheter le pot à chaque fois.
            Un format voyage permettrait de tester avant de payer {n}€.
            Offrez la livraison dès 40€ comme avant.
        """),
        "quality": lines("""
            Revenez à l'ancienne formule ou gardez les deux.
            Un ressort en métal réglerait le problème.
            Une mèche en bois ou plus épaisse serait bien mieux.
            Un opercule sous le couvercle suffirait.
        """),
        "customer_service": lines("""
            Un accusé de réception avec un numéro de dossier changerait tout.
            Ouvrez le chat le soir jusqu'à 21h.
            Gardez l'historique du dossier d'un conseiller à l'autre.
        """),
        "app_website": lines("""
            Corrigez ce bug svp, on perd tout le panier.
            Ajoutez PayPal ou Apple Pay dans l'appli.
            Affichez le stock réel de chaque boutique.
        """),
        "billing": lines("""
            Bloquez le deuxième clic sur "payer" et remboursez automatiquement les doublons.
            Remboursez à la réception du colis en entrepôt, pas au scan du relais.
        """),
        "promotions": lines("""
            Indiquez clairement les produits exclus sur la page de l'offre.
            Envoyez les codes avant le début de l'offre.
            Publiez les gagnants en story avec leur pseudo.
        """),
        "store": lines("""
            Une caisse de plus le samedi et la queue serait réglée.
            Mettez les horaires à jour sur Google Maps.
            Un réassort le vendredi serait plus logique.
        """),
        "csr": lines("""
            Une consigne pour les pots en verre en boutique, je ramènerais les miens avec plaisir.
            Des cartons adaptés à la taille de la commande, ça coûte moins cher en plus.
            Publiez le montant exact reversé, ça rassurerait tout le monde.
        """),
    },
    "sarcasm": lines("""
        Bravo pour la livraison en {d} jours, record battu 👏
        Super le service client, ça fait {d} jours que je parle au répondeur 🙃
        Génial, encore une augmentation, merci pour le pouvoir d'achat 😂
        Ah oui la formule "améliorée", améliorée pour votre marge surtout
        Merci pour le colis vide, j'adore les surprises
        Heureusement que vous êtes "éco-responsables" avec trois couches de plastique 🙄
        Le jeu concours où personne ne connaît les gagnants, quelle surprise
        Trop fort l'appli, elle plante avant même de s'ouvrir
        Magnifique {p}, dommage qu'il soit en rupture depuis 3 mois
        Quelle rapidité pour rembourser, à peine {d} jours et toujours rien 👌
        Ah tiens, une nouvelle collection, pendant que ma commande {o} attend toujours
        Le "service client à votre écoute", on doit pas avoir la même définition de l'écoute
        J'adore payer {n}€ pour un pot à moitié vide, c'est mon sport préféré
        Vive la livraison "express"
    """),
    "toxic": lines("""
        bande d'escrocs
        vous êtes des voleurs
        marque de merde
        le CM est un incapable
        allez vous faire voir
        arnaqueurs de première
        sale boîte pourrie
        bande de guignols
        vous êtes vraiment des nuls finis
        connards de service client
        bande de clowns incompétents
    """),
    "toxic_tail": lines("""
        rendez moi mon argent
        je vais tout faire pour vous couler
        même pas capables d'envoyer un colis
        personne achète votre daube
        votre crème c'est de la flotte
        """),
    "toxic_user": lines("""
        t'es payée par la marque ou quoi ?
        mais tais-toi
        personne t'a demandé ton avis
        retourne jouer
        t'es vraiment bête
        ferme-la un peu
    """),
    "toxic_user_insult": lines("""
        pauvre cloche
        espèce d'abruti
        boloss
        pauvre idiote
        bouffon
    """),
    "threat": "Si je ne suis pas remboursé d'ici lundi je viens à la boutique de {c} et je vous jure que la vendeuse va le regretter, je sais où elle se gare.",
    "spam": lines("""
        Gagnez 500€ par jour depuis chez vous 👉 {url}
        Je vends les mêmes produits 50% moins cher, écrivez-moi en DM
        Crypto : investissez 200€ et recevez 2000€ en 7 jours, contactez {m}
        iPhone 17 offert aux 100 premiers ➡️ lien dans ma bio
        Vous voulez plus d'abonnés ? {url}
        Travail à domicile, 3h par jour, formation offerte : {url}
        Ma boutique de bijoux fait -70% aujourd'hui seulement {url}
        Découvrez mon programme minceur révolutionnaire {m} 🔥🔥🔥
    """),
    "chat": lines("""
        {m} regarde ça
        {m} on y va samedi ?
        vu en magasin hier
        c'est pour quand la collection de Noël ?
        premier commentaire 😄
        j'ai reçu le même pour mon anniversaire
        moi je préfère l'ancien packaging mais bon
        qui a déjà testé ?
        ça a l'air bien
        {m} pour toi 😉
        {m} ton cadeau de Noël est trouvé
        la photo est trop belle
        j'ai la même en rose
        on dirait la maison de ma grand-mère
        {m} {m2} on se fait une virée à {c} ?
        c'est quoi la musique ?
        la lumière de cette photo 😍
        hâte de voir la suite
        ça me rappelle mes vacances en Provence
        je l'ai mise dans ma liste au père Noël
    """),
    "contest": lines("""
        Je participe ! {m} {m2}
        je tente ma chance 🍀 {m}
        Participation ✨ {m} {m2} {m3}
        Merci pour ce concours, j'invite {m}
        Je participe avec plaisir {m}
        Ce serait un rêve de gagner 🙏 {m} {m2}
        Go {m} on croise les doigts
        Participation ! Abonnée depuis toujours 🥰 {m}
        Je joue ! {m} {m3}
        Partagé et abonnée, {m} {m2}
    """),
    "agree": lines("""
        pareil pour moi
        idem, commande {o} jamais reçue
        +1
        même chose à {c}
        moi aussi !!
        pareil depuis {d} jours
        exactement pareil
        on est nombreux dans ce cas
        je confirme, c'est la même chose chez moi
        pareil et toujours aucune réponse
    """),
    "community_answer": lines("""
        Oui c'est dispo à {c}, je l'ai acheté hier
        Il faut aller dans Mon compte > Mes codes
        C'est marqué sur la fiche produit : vegan et sans parfum
        Moi je l'utilise avec une peau sensible, aucun souci
        Il faut écrire via le formulaire contact, ils répondent sous 48h
        Le suivi est dans le mail de confirmation
        Oui je l'ai utilisée pendant ma grossesse, mais demande à ton médecin
        La recharge existe, elle est dans l'onglet "recharges"
    """),
    "defend": lines("""
        Moi je n'ai jamais eu de souci avec eux
        Faut arrêter de râler pour tout
        Le service client m'a répondu en 2h perso
        Ça arrive, ils ont toujours arrangé les choses pour moi
        C'est le transporteur le problème, pas la marque
    """),
    "praise_reply": lines("""
        trop d'accord !
        {m} tu vois !
        ❤️
        complètement d'accord
        la même 😍
        validé
    """),
    "calm_down": lines("""
        restez polis svp
        pas besoin d'insulter
        on peut être mécontent sans être grossier
        calme-toi, ça ne sert à rien de s'énerver
    """),
    "crisis": lines("""
        colis marqué "livré" ce matin et RIEN dans ma boîte aux lettres
        mon colis des Jours Aurore est indiqué livré alors que j'étais chez moi toute la matinée
        suivi {carrier} : livré à 08h12. Chez moi : rien.
        commande {o} soi-disant livrée, personne n'a rien vu, même pas la gardienne
        c'est quoi cette histoire de colis livrés qui n'existent pas ??
        on est combien à avoir reçu le mail "livré" sans colis ?
        ma commande {o} a disparu, le suivi dit livrée
        impossible d'avoir quelqu'un au service client, {t} minutes d'attente et ça coupe
        toutes mes commandes cadeaux perdues, {n}€ dans la nature
        commande des Jours Aurore jamais reçue et le chat est fermé
        {carrier} dit que c'est vous, vous dites que c'est {carrier}, on fait quoi nous ?
        je veux être remboursée, mon colis n'est jamais arrivé
        livré mais pas livré, encore une fois
        ça fait 3 commandes perdues dans mon entourage rien qu'aujourd'hui
        vous allez communiquer ou on doit tout apprendre sur Facebook ?
        le colis est marqué livré à une adresse qui n'est pas la mienne
        je travaille à la maison, personne n'a sonné, et pourtant "livré"
    """),
    "crisis_close": lines("""
        #colisperdu
        😡😡
        !!!!
        on veut des réponses
        remboursez-nous
        c'est une honte
        #joursaurore mon œil
        je suis dégoûtée
        merci de communiquer
        scandale
    """),
    "crisis_constructive": lines("""
        Envoyez un mail à tous les clients concernés au lieu de nous laisser chercher sur Facebook.
        Le plus simple : remboursez automatiquement toutes les commandes passées par {carrier} cette semaine.
        Ouvrez une page dédiée avec la liste des commandes touchées, ça évitera 1000 appels au service client.
        Le problème vient clairement du dépôt {carrier} de {c} : tous les colis passés par là sont "livrés" sans l'être. Renvoyez-les par un autre transporteur.
        Mettez un formulaire de réclamation en ligne avec le numéro de commande, le service client est saturé.
    """),
    "brand_sig": lines("""
        — Camille
        ^Léa
        Julien de l'équipe Aurore
        Inès 🌸
        — Sarah, équipe Maison Aurore
        ^Thomas
    """),
    "brand_question": lines("""
        Bonjour {name}, oui, {p} a été testé sous contrôle dermatologique sur peaux sensibles.
        Bonjour {name}, le retour en stock est prévu d'ici deux semaines, vous pouvez activer l'alerte sur la fiche produit.
        Bonjour {name}, nous vous avons répondu en message privé.
        Hello {name} ! Tous nos produits sont formulés et fabriqués à Grasse.
        Bonjour {name}, oui, nous livrons en Belgique et en Suisse (4 à 6 jours ouvrés).
        Bonjour {name}, le code se saisit à la dernière étape du paiement, dans le champ "code avantage".
        Bonjour {name}, bonne nouvelle : la recharge arrive en novembre.
        Coucou {name} ! La boutique de {c} l'a en stock, n'hésitez pas à appeler avant de passer.
    """),
    "brand_complaint": lines("""
        Bonjour {name}, nous sommes désolés pour ce désagrément. Pouvez-vous nous envoyer votre numéro de commande en message privé ? Nous regardons ça tout de suite.
        Bonjour {name}, ce n'est pas l'expérience que nous voulons vous offrir. Notre équipe vous contacte en MP.
        Bonjour {name}, merci de nous avoir signalé ça, nous vous écrivons en privé pour trouver une solution.
        {name}, toutes nos excuses. Nous avons transmis votre dossier au service client en priorité.
        Bonjour {name}, nous comprenons votre agacement. Envoyez-nous un message privé avec votre e-mail de commande, on s'en occupe.
    """),
    "brand_constructive": lines("""
        Merci {name} pour ce retour précis, nous l'avons transmis à l'équipe {team}.
        Bonjour {name}, merci pour la suggestion ! L'équipe {team} l'étudie, on vous tient au courant.
        {name}, merci, c'est exactement le genre de retour qui nous fait progresser. Transmis à l'équipe {team}.
        Bonjour {name}, vous avez raison sur la cause. L'équipe {team} travaille sur une correction.
    """),
    "brand_praise": lines("""
        Merci {name} ! 🥰
        Merci beaucoup {name}, ça nous fait très plaisir ✨
        Oh merci {name}, on transmet à toute l'équipe !
        {name} vous êtes adorable, merci 🌸
    """),
    "brand_other": lines("""
        Bonjour {name}, nous restons à votre disposition en message privé.
        Merci {name} pour votre message.
    """),
    "brand_crisis": lines("""
        Bonjour {name}, nous sommes sincèrement désolés. Un incident chez notre transporteur {carrier} touche une partie des commandes des Jours Aurore. Toutes les commandes concernées seront renvoyées ou remboursées : envoyez-nous votre n° de commande en MP.
        {name}, toutes nos excuses. Votre commande fait partie de celles touchées par l'incident {carrier}, nous vous écrivons en privé pour le renvoi.
        Bonjour {name}, nous comprenons votre colère. Un formulaire dédié est en ligne sur maisonaurore.fr/incident-livraison, le renvoi est gratuit et prioritaire.
    """),
}

TEAMS_FR = ["logistique", "produit", "digital", "service client", "boutiques", "RSE"]

# ---------------------------------------------------------------------------------------------
# English
# ---------------------------------------------------------------------------------------------
EN = {
    "praise_open": lines("""
        Honestly
        Obsessed!
        Wow
        Just saying,
        OMG
        Love it,
        Ten out of ten:
        Can confirm,
    """),
    "praise": lines("""
        I love {p}, {reason}
        {p} is amazing
        best purchase this year, {p} {reason2}
        buying {p} for the {nth} time
        my sister gave me {p} and I can't live without it now
        the smell of {p} is incredible
        the shop in {c} was lovely, great staff
        delivered to London in {d2} days, perfect packaging
        your gift boxes are the prettiest
        {p} and {p2} together are perfection
        customer service sorted my issue in {h} hours, thank you
        {p} is now part of my daily routine
    """),
    "reason": lines("""
        my skin feels so soft
        it lasts all day
        the scent is just perfect
        the packaging is gorgeous
        no irritation at all
        my whole flat smells like autumn
    """),
    "reason2": lines("""
        really works
        smells divine
        is worth every penny
        saved my dry hands
    """),
    "praise_close": lines("""
        !!
        ❤️
        😍
        thank you 🙏
        keep it up
        👏
        big fan
    """),
    "question_open": lines("""
        Hi,
        Hello!
        Quick question:
        Hey
        Hi team,
        Does anyone know
    """),
    "question": lines("""
        is {p} suitable for sensitive skin?
        when will {p} be back in stock?
        do you ship to the UK?
        do you ship to the US?
        is {p} vegan?
        is there a fragrance-free version of {p}?
        what's the difference between {p} and {p2}?
        do you sell refills for {p}?
        where is my order {o}?
        how long does the offer last?
        can I return an opened product?
        is the shop in {c} open on Sundays?
        are your products cruelty free?
    """),
    "question_close": lines("""
        thanks!
        Thanks in advance
        🙏
        cheers
        ?
    """),
    "complaint_open": lines("""
        Honestly
        Very disappointed.
        Unacceptable.
        Hi,
        Seriously?
        Again
        Not happy.
        What a joke.
    """),
    "complaint_close": lines("""
        😡
        !!!
        please reply
        never ordering again
        really disappointed
        sort it out
        👎
    """),
    "complaint": {
        "delivery": lines("""
            I've been waiting {d} days for order {o}
            parcel marked as delivered but never arrived
            shipping to the UK took {d} days
            parcel arrived open and half empty
            tracking hasn't moved in {d} days
        """),
        "price": lines("""
            {n}€ for {p}? seriously?
            way too expensive for what it is
            shipping costs are ridiculous
            prices went up again
        """),
        "quality": lines("""
            {p} changed formula and it's much worse
            the pump broke on day one
            {p} gave me a rash
            the candle tunnelled after {h} hours
            the scent of {p} doesn't last at all
        """),
        "customer_service": lines("""
            sent {k} emails to customer service, no answer
            the chat never replies
            promised a refund {d} days ago
            nobody speaks English on the hotline
        """),
        "app_website": lines("""
            the app crashes at checkout
            can't log in since the update
            the website won't take my card
            promo code doesn't work in the app
        """),
        "billing": lines("""
            I was charged twice for order {o}
            still no refund for my return
            charged for shipping even though it was free
        """),
        "promotions": lines("""
            the 30% off doesn't apply to {p}
            the free gift wasn't in my box
            "up to 50% off" and everything is 10% off
        """),
        "store": lines("""
            rude staff at the {c} shop
            the {c} shop was closed during opening hours
        """),
        "csr": lines("""
            so much plastic for a "green" brand
            how much do you actually donate for Pink October?
            greenwashing at its finest
        """),
    },
    "constructive_open": lines("""
        Constructive feedback:
        Loyal customer here, but
        Suggestion:
        Not to complain, but
        FYI,
    """),
    "cause": {
        "delivery": lines("""
            since you switched to {carrier} parcels take {d} days
            the tracking number is only sent on delivery
        """),
        "price": lines("""
            shipping eats the whole discount
            most of the price is the glass jar
        """),
        "quality": lines("""
            since the new formula of {p} the texture is runnier
            the plastic spring in the pump is what breaks
        """),
        "customer_service": lines("""
            there's no ticket number so we resend the same email
            the chat is only open during office hours
        """),
        "app_website": lines("""
            the basket empties when you apply a code and then change the address
            checkout fails at the 3D Secure step on Android
        """),
        "billing": lines("""
            the double charge happens when the payment page times out
        """),
        "promotions": lines("""
            half the products are excluded from the sale but it's not written anywhere
        """),
        "store": lines("""
            there's only one till open on Saturdays in {c}
        """),
        "csr": lines("""
            glass jars go to the bin because there's no take-back
            the shipping box is three times too big
        """),
    },
    "suggestion": {
        "delivery": lines("""
            Please offer free click & collect.
            Send the tracking number at dispatch please.
        """),
        "price": lines("""
            A cheaper refill would be great.
            A travel size would let us try before paying {n}€.
        """),
        "quality": lines("""
            Please bring back the old formula.
            A metal spring would fix it.
        """),
        "customer_service": lines("""
            A ticket number would change everything.
            Open the chat in the evening.
        """),
        "app_website": lines("""
            Please fix it, we lose the whole basket.
            Add PayPal or Apple Pay.
        """),
        "billing": lines("""
            Block the second click on "pay" and refund duplicates automatically.
        """),
        "promotions": lines("""
            List the excluded products clearly on the offer page.
        """),
        "store": lines("""
            One more till on Saturdays would solve it.
        """),
        "csr": lines("""
            A jar take-back scheme in shops would be great.
            Use boxes that fit the order.
        """),
    },
    "sarcasm": lines("""
        Great job on the {d}-day delivery, new record 👏
        Love paying {n}€ for half a jar, my favourite hobby
        Oh wow another price rise, thanks so much 🙃
        "Eco-friendly" with three layers of plastic, sure 🙄
        Amazing app, crashes before it even opens
        So glad my refund is taking only {d} days and counting
    """),
    "toxic": lines("""
        you're a bunch of scammers
        worst brand ever, total garbage
        your social media person is an idiot
        thieves, give me my money back
        pathetic clowns
    """),
    "toxic_tail": lines("""
        never again
        hope you go bankrupt
        what a joke of a company
    """),
    "toxic_user": lines("""
        are you paid to say that?
        shut up
        nobody asked you
    """),
    "toxic_user_insult": lines("""
        you moron
        idiot
        loser
    """),
    "spam": lines("""
        Make $500 a day from home 👉 {url}
        Follow me for follow back 🔥🔥
        Free giveaways on my page!!! {m}
        DM me for cheap copies of these products
        Want more followers? {url}
    """),
    "chat": lines("""
        {m} look at this
        {m} we need this
        saw it in the shop yesterday
        first!
        when is the Christmas collection out?
        who has tried it?
        {m} birthday gift sorted 😉
        that photo is stunning
    """),
    "contest": lines("""
        Entering! {m} {m2}
        Fingers crossed 🍀 {m}
        Count me in ✨ {m}
        Would love to win this {m} {m2}
    """),
    "agree": lines("""
        same here
        +1
        me too!!
        exactly the same for me
        same, still waiting
    """),
    "community_answer": lines("""
        Yes they ship to the UK, took a week for me
        It's on the product page: vegan and fragrance free
        I have sensitive skin and it's fine
        The refill is under the "refills" tab
    """),
    "defend": lines("""
        Never had a problem with them
        It's the courier, not the brand
    """),
    "praise_reply": lines("""
        totally agree!
        ❤️
        same 😍
    """),
    "calm_down": lines("""
        no need to insult people
        please keep it civil
    """),
    "brand_sig": lines("""
        — Camille
        ^Léa
        Inès 🌸
    """),
    "brand_question": lines("""
        Hi {name}, yes, {p} has been dermatologically tested on sensitive skin.
        Hi {name}, it will be back within two weeks; you can turn on the alert on the product page.
        Hi {name}, we've sent you a private message.
        Hi {name}! We ship to the UK in 5 to 7 working days.
    """),
    "brand_complaint": lines("""
        Hi {name}, we're so sorry about this. Could you DM us your order number? We'll look into it right away.
        Hi {name}, this is not the experience we want for you. Our team will contact you privately.
        {name}, our apologies. We've escalated your case to customer care.
    """),
    "brand_constructive": lines("""
        Thank you {name} for this detailed feedback, we've passed it on to our {team} team.
        Hi {name}, great suggestion! Our {team} team is looking into it.
    """),
    "brand_praise": lines("""
        Thank you {name}! 🥰
        Thanks so much {name}, that means a lot ✨
    """),
    "brand_other": lines("""
        Hi {name}, we're here to help via private message.
    """),
    "brand_crisis": lines("""
        Hi {name}, we're truly sorry. An incident at our carrier {carrier} affects some Jours Aurore orders. Every affected order will be re-shipped or refunded: please DM us your order number.
    """),
}
TEAMS_EN = ["logistics", "product", "digital", "customer care", "retail", "sustainability"]

# ---------------------------------------------------------------------------------------------
# Spanish, German, Italian, Portuguese: fewer kinds of comment, as on a French page.
# ---------------------------------------------------------------------------------------------
ES = {
    "praise": lines("""
        Me encanta {p}, huele de maravilla
        {p} es lo mejor que he probado
        Compré {p} en París y ahora lo pido online
        Qué bonito el nuevo envase
        Mi piel está mucho más suave con {p}
        Regalé {p} a mi madre y le encantó
    """),
    "question": lines("""
        ¿Hacéis envíos a España?
        ¿{p} sirve para piel sensible?
        ¿Cuándo vuelve {p}?
        ¿Tenéis tienda en Madrid?
        ¿Es vegano {p}?
    """),
    "complaint": {
        "delivery": lines("""
            Llevo {d} días esperando mi pedido {o}
            El paquete llegó abierto
        """),
        "price": lines("""
            {n}€ por {p} es demasiado caro
            Los gastos de envío a España son carísimos
        """),
        "quality": lines("""
            {p} me dio alergia
            La vela se apagó a las {h} horas
        """),
        "customer_service": lines("""
            Nadie responde a mis correos
        """),
    },
    "chat": lines("""
        {m} mira esto
        ¡Qué bonito!
        {m} para tu cumple
    """),
    "brand": "¡Hola {name}! Gracias por tu mensaje, te escribimos por privado.",
}
DE = {
    "praise": lines("""
        Ich liebe {p}, riecht fantastisch
        {p} ist einfach super
        Die Verpackung ist wunderschön
        Meine Haut ist viel weicher seit {p}
        Habe {p} in Straßburg gekauft, top Qualität
    """),
    "question": lines("""
        Liefert ihr nach Deutschland?
        Ist {p} für empfindliche Haut geeignet?
        Wann ist {p} wieder verfügbar?
        Ist {p} vegan?
    """),
    "complaint": {
        "delivery": lines("""
            Ich warte seit {d} Tagen auf meine Bestellung {o}
            Das Paket kam beschädigt an
        """),
        "price": lines("""
            {n}€ für {p} ist viel zu teuer
            Versandkosten nach Deutschland sind absurd
        """),
        "quality": lines("""
            {p} hat meine Haut gereizt
            Der Pumpspender war sofort kaputt
        """),
        "customer_service": lines("""
            Der Kundenservice antwortet nie
        """),
    },
    "chat": lines("""
        {m} schau mal
        Wie schön!
    """),
    "brand": "Hallo {name}, vielen Dank! Wir schreiben dir eine Privatnachricht.",
}
IT = {
    "praise": lines("""
        Adoro {p}, profuma tantissimo
        {p} è fantastico
        Che bella la nuova confezione
        La mia pelle è morbidissima grazie a {p}
        Comprato a Nizza, qualità top
    """),
    "question": lines("""
        Spedite in Italia?
        {p} va bene per pelli sensibili?
        Quando torna disponibile {p}?
        {p} è vegano?
    """),
    "complaint": {
        "delivery": lines("""
            Aspetto il mio ordine {o} da {d} giorni
            Il pacco è arrivato aperto
        """),
        "price": lines("""
            {n}€ per {p} è troppo
            Spedizione in Italia carissima
        """),
        "quality": lines("""
            {p} mi ha irritato la pelle
            La candela si è spenta dopo {h} ore
        """),
    },
    "chat": lines("""
        {m} guarda qui
        Che bello!
    """),
    "brand": "Ciao {name}, grazie mille! Ti scriviamo in privato.",
}
PT = {
    "praise": lines("""
        Adoro {p}, cheira tão bem
        {p} é maravilhoso
        A embalagem nova está linda
        Comprei {p} em Paris e adorei
    """),
    "question": lines("""
        Vocês enviam para Portugal?
        {p} é bom para pele sensível?
        Quando volta {p}?
        Enviam para o Brasil?
    """),
    "complaint": {
        "delivery": lines("""
            Estou esperando a encomenda {o} há {d} dias
            A encomenda chegou aberta
        """),
        "price": lines("""
            {n}€ por {p} é muito caro
        """),
    },
    "chat": lines("""
        {m} olha isto
        Que lindo!
    """),
    "brand": "Olá {name}, obrigado! Enviámos uma mensagem privada.",
}
MINOR = {"es": ES, "de": DE, "it": IT, "pt": PT}

# ---------------------------------------------------------------------------------------------
# People (fictional) and the brand's posts
# ---------------------------------------------------------------------------------------------
FIRST_NAMES_FR = lines(
    """
Camille Léa Manon Chloé Emma Inès Sarah Julie Laura Marine Pauline Lucie Claire Elodie Aurélie
Céline Nathalie Sandrine Isabelle Sophie Valérie Stéphanie Karine Émilie Amandine Mélanie Audrey
Anaïs Clara Jade Louise Alice Lina Zoé Margaux Océane Justine Morgane Coralie Fanny Mathilde
Nadia Yasmine Samira Fatou Aïcha Leïla Myriam Hélène Brigitte Martine Sylvie Christine Monique
Thomas Nicolas Julien Maxime Antoine Kevin Romain Alexandre Quentin Hugo Lucas Mehdi Karim Yanis
Sébastien Jérôme Olivier Pierre François Laurent David Cédric Mickaël Benoît Arnaud Théo
""".replace(" ", "\n")
)
LAST_NAMES_FR = lines(
    """
Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre
Michel Garcia David Bertrand Roux Vincent Fournier Morel Girard André Lefèvre Mercier Dupont
Lambert Bonnet François Martinez Legrand Garnier Faure Rousseau Blanc Guérin Muller Henry
Roussel Nicolas Perrin Morin Mathieu Clément Gauthier Dumont Lopez Fontaine Chevalier Robin
Masson Sanchez Gérard Nguyen Boyer Denis Lemaire Duval Joly Gautier Roger Roche Roy Noël
Meyer Lucas Meunier Jean Perez Marchand Dufour Blanchard Brun Benali Haddad Diallo Traoré
""".replace(" ", "\n")
)
FIRST_NAMES_EN = lines(
    """
Emily Olivia Sophie Jessica Hannah Charlotte Amelia Grace Chloe Megan Lucy Ella James Oliver
Jack Harry George Daniel Ryan Sam Emma Ava Mia Isla Ruby Freya
""".replace(" ", "\n")
)
LAST_NAMES_EN = lines(
    """
Smith Jones Taylor Brown Williams Wilson Johnson Davies Evans Walker Wright Thompson White
Hughes Edwards Green Hall Wood Harris Clarke Baker Turner
""".replace(" ", "\n")
)
FIRST_NAMES_OTHER = {
    "es": lines("Lucía\nMaría\nCarmen\nPaula\nSofía\nJavier\nPablo\nAlba\nMarta\nIrene"),
    "de": lines("Anna\nLena\nLaura\nJulia\nKatharina\nLukas\nJonas\nSabine\nMonika\nJana"),
    "it": lines("Giulia\nChiara\nFrancesca\nSara\nMartina\nMarco\nLuca\nElena\nValentina\nAlessia"),
    "pt": lines("Ana\nBeatriz\nMariana\nInês\nCatarina\nJoão\nRita\nJuliana\nFernanda\nCamila"),
}
LAST_NAMES_OTHER = {
    "es": lines("García\nFernández\nLópez\nMartínez\nSánchez\nRomero\nNavarro\nTorres"),
    "de": lines("Müller\nSchmidt\nSchneider\nFischer\nWeber\nWagner\nBecker\nHoffmann"),
    "it": lines("Rossi\nRusso\nFerrari\nEsposito\nBianchi\nRomano\nColombo\nRicci"),
    "pt": lines("Silva\nSantos\nFerreira\nPereira\nOliveira\nCosta\nRodrigues\nAlmeida"),
}
HANDLE_WORDS = lines("""
lili
cosmetique
mamanpoule
beaute
nature
zen
bougie
cocon
lavande
ptitefee
jolie
parisienne
lyonnaise
marseillaise
bretonne
routine
glow
douceur
happy
sunny
moon
chat
cannelle
vanille
""")

POSTS = {
    "product": lines("""
        Nouveauté ✨ {p} arrive aujourd'hui sur maisonaurore.fr et dans nos boutiques. Qui a envie de tester ? {tags}
        Le secret d'une peau douce quand les températures baissent ? {p}, formulé à Grasse 🍂 {tags}
        Retour en stock 🎉 Vous l'avez réclamé, {p} est de nouveau disponible ! {tags}
        Vous êtes plutôt {p} ou {p2} ? Dites-nous en commentaire 👇 {tags}
        Notre best-seller de l'automne : {p}. 94% de nos clientes le rachètent. {tags}
        Les coulisses de {p} : 18 mois de formulation et 11 versions avant la bonne 🧪 {tags}
    """),
    "tutorial": lines("""
        Routine du soir en 3 gestes avec {p} et {p2} 🌙 {tags}
        Comment faire durer votre bougie deux fois plus longtemps ? Nos 4 astuces 🕯️ {tags}
        Tuto : le bon geste pour appliquer {p} (spoiler : on chauffe d'abord entre les mains) {tags}
    """),
    "contest": lines("""
        🎁 JEU CONCOURS 🎁 Gagnez le coffret Jours Dorés ! Pour participer : abonnez-vous, likez et identifiez 2 amies en commentaire. Tirage le {draw}. {tags}
        CONCOURS 🍂 3 bougies Pomme d'Automne à gagner ! Dites-nous en commentaire votre rituel cocooning et invitez une amie. Tirage le {draw}. {tags}
    """),
    "csr": lines("""
        Octobre Rose 🎀 Ce mois-ci, 2€ par baume Miel d'Acacia vendu sont reversés à la recherche contre le cancer du sein. {tags}
        Nos pots en verre se recyclent à l'infini ♻️ Rapportez-les en boutique, on vous offre 10% sur votre prochain achat. {tags}
        Depuis janvier, 100% de nos cartons sont recyclés et fabriqués en France. Prochaine étape : zéro plastique d'ici 2028. {tags}
    """),
    "store": lines("""
        📍 Bordeaux, c'est le grand jour ! Notre nouvelle boutique ouvre ses portes rue Sainte-Catherine à 10h. On vous attend ! {tags}
        Nos boutiques de {c} et {c2} restent ouvertes jusqu'à 20h tout le mois d'octobre ✨ {tags}
    """),
    "sale": lines("""
        ☀️ LES JOURS AURORE ☀️ Jusqu'à -30% sur tout le site et en boutique, du 9 au 12 octobre. Livraison offerte dès 35€ ! {tags}
        Dernier jour des Jours Aurore ⏳ Vos favoris à -30% jusqu'à minuit. {tags}
    """),
    "halloween": lines("""
        🎃 Édition limitée Halloween : la bougie Pomme d'Automne se pare de noir. Disponible jusqu'au 31 ! {tags}
        Trick or treat 🎃 Quel produit Maison Aurore vous rend accro comme des bonbons ? {tags}
    """),
    "team": lines("""
        Rencontrez Amélie, notre maître parfumeuse à Grasse 💐 Elle nous raconte la naissance de {p}. {tags}
        Un jour dans notre atelier de Grasse : 2 400 bougies coulées à la main chaque jour 🕯️ {tags}
    """),
}
CRISIS_POST = (
    "Information livraisons 📦 Depuis ce matin, de nombreuses commandes des Jours Aurore apparaissent "
    "comme « livrées » sans l'avoir été. Un incident touche un dépôt de notre transporteur {carrier}. "
    "Nous sommes sincèrement désolés. Toutes les commandes concernées seront renvoyées gratuitement "
    "ou remboursées : formulaire sur maisonaurore.fr/incident-livraison. Nous répondons à chacun·e "
    "d'entre vous, merci de votre patience. #maisonaurore"
)
FOLLOWUP_POST = (
    "Point livraisons ✅ 82% des commandes touchées par l'incident {carrier} ont été renvoyées hier "
    "soir, les autres partent aujourd'hui. Vous recevrez un mail avec le nouveau suivi. Merci pour "
    "votre patience et désolés encore 🙏 #maisonaurore"
)
YOUTUBE_TITLES = lines("""
Routine du soir cocooning 🌙 avec {p} | Maison Aurore
Dans notre atelier de Grasse : comment naît une bougie
5 façons d'utiliser {p} (la 4e va vous surprendre)
Octobre Rose 🎀 : nos équipes s'engagent
Tuto : bien choisir son soin selon sa peau
On a testé {p} pendant 30 jours
Les Jours Aurore : nos coups de cœur à -30%
Halloween 🎃 DIY bougie Pomme d'Automne
Inauguration de la boutique de Bordeaux
Maître parfumeuse : une journée avec Amélie
""")
