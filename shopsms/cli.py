"""Flask commands: `flask --app app users|demo|worker|serve …`."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from . import demo
from .extensions import db
from .gateways.smpp import smpp_cli
from .models import Client, Message, Setting, Store
from .queue import EmbeddedRedis
from .services import campaigns, imports, secret_box, users
from .services.imports import demo_export
from .services.settings import SECRETS
from .sms import phones
from .worker import run_worker

users_cli = AppGroup("users", help="Comptes utilisateurs.")
demo_cli = AppGroup("demo", help="Données de démonstration.")
sms_cli = AppGroup("sms", help="Envoyer un SMS depuis le terminal.")
secrets_cli = AppGroup("secrets", help="Mots de passe des passerelles, chiffrés en base.")


@secrets_cli.command("rotate")
def rotate_secrets():
    """Encrypt every gateway password with a new key (also encrypts older clear values)."""
    rows = db.session.scalars(select(Setting).where(Setting.key.in_(SECRETS))).all()
    done, _key = secret_box.rotate(rows)
    db.session.commit()
    secret_box.forget_old_keys()
    where = "SETTINGS_KEYS" if current_app.config.get("SETTINGS_KEYS") else "instance/settings_key"
    click.echo(f"{done} mot(s) de passe chiffré(s) avec la nouvelle clé ({where}).")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["staff", "manager", "admin"]), default="staff")
@click.option("--store", "store_code", help="Code du magasin (obligatoire sauf pour admin).")
@click.option("--name", "full_name", default="", help="Nom affiché.")
@click.password_option("--password", help="Demandé s'il n'est pas donné.")
def create_user(username, role, store_code, full_name, password):
    """Create a user; the password is asked twice unless given."""
    try:
        user = users.create_user(username, password, role, store_code, full_name)
    except users.UserError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Utilisateur « {user.username} » créé ({user.role}).")


@demo_cli.command("seed")
@click.option("--clients", default=2000, show_default=True, help="Nombre de clients.")
@click.option("--seed", "random_seed", default=2026, show_default=True)
@click.option("--if-empty", is_flag=True, help="Ne rien faire si la base a déjà des données.")
def seed_demo(clients, random_seed, if_empty):
    """Load a demo chain: stores, users, clients, purchases, repairs."""
    if not demo.is_empty():
        if if_empty:
            click.echo("Données déjà présentes : démonstration non rechargée.")
            return
        raise click.ClickException(
            "La base contient déjà des données : la démonstration ne se charge que dans une "
            "base vide (supprimez instance/shopsms.db ou utilisez --if-empty)."
        )
    started = time.monotonic()
    with click.progressbar(length=2 * clients, label="Chargement de la démonstration") as bar:
        report = demo.seed(clients, seed=random_seed, progress=bar.update)
    click.echo(
        f"{report.stores} magasins, {report.clients} clients, {report.purchases} ventes, "
        f"{report.repair_tickets} fiches SAV en {time.monotonic() - started:.1f} s."
    )
    click.echo(f"Comptes de démonstration (mot de passe : {demo.DEMO_PASSWORD}) :")
    for username, role, store in report.users:
        click.echo(f"  {username:<20} {role:<8} {store}")


@demo_cli.command("export")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--clients", default=200, show_default=True, help="Nombre de clients.")
def export_demo(folder, clients):
    """Write point-of-sale export files (CSV, with bad rows) to try the import on."""
    report = demo_export.write(folder, clients)
    for path in report.files:
        click.echo(path)
    click.echo(
        f"{report.clients} clients (+{report.bad_clients} lignes en erreur), "
        f"{report.purchases} ventes (+{report.bad_purchases}), "
        f"{report.repairs} fiches SAV (+{report.bad_repairs})."
    )


@click.command("import")
@click.argument("kind", type=click.Choice(["clients", "purchases", "repairs"]))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--store", "store_code", help="Limiter l'import à ce magasin (code).")
@with_appcontext
def import_command(kind, path, store_code):
    """Import a point-of-sale CSV file (clients, purchases or repairs) right away."""
    store_id = None
    if store_code:
        store_id = db.session.scalar(select(Store.id).where(Store.code == store_code))
        if store_id is None:
            raise click.ClickException(f"Magasin inconnu « {store_code} ».")
    # The run works on its own copy: the original file stays where it is.
    copy = imports.import_path()
    shutil.copyfile(path, copy)
    try:
        run = imports.start(copy, kind=kind, filename=os.path.basename(path), store_id=store_id)
        imports.confirm(run.id, run.mapping, enqueue=False)
    except imports.ImportError_ as error:
        copy.unlink(missing_ok=True)
        raise click.ClickException(str(error)) from error
    run = imports.run(run.id)
    if run.status == "failed":
        raise click.ClickException(f"{run.error} (import n° {run.id})")
    click.echo(
        f"{run.rows_read} lignes lues : {run.rows_created} créées, {run.rows_updated} "
        f"modifiées, {run.rows_unchanged} inchangées, {run.rows_rejected} rejetées."
    )
    if run.reject_path:
        click.echo(f"Lignes rejetées : {run.reject_path}")


@sms_cli.command("send")
@click.option("--client", "client_number", help="N° du client (son numéro SMS est utilisé).")
@click.option("--phone", help="Ou un numéro de portable, pour un SMS de test.")
@click.option("--text", required=True, help="Le texte, expressions génériques comprises.")
@click.option("--stop", "add_stop", is_flag=True, help="Ajouter la mention STOP.")
@click.option("--wait", "wait_seconds", default=0, help="Attendre l'accusé de réception (s).")
def send_sms(client_number, phone, text, add_stop, wait_seconds):
    """Send one service SMS through the configured gateway (a worker must be running)."""
    if bool(client_number) == bool(phone):
        raise click.ClickException("Indiquez soit --client, soit --phone.")
    if client_number:
        client = db.session.scalar(select(Client).where(Client.number == client_number))
        if client is None:
            raise click.ClickException(f"Aucun client n'a le numéro « {client_number} ».")
        recipient, store_id = campaigns.Recipient(client_id=client.id), client.store_id
    else:
        number = phones.classify(phone)
        if number.kind != "mobile":
            raise click.ClickException(f"« {phone} » n'est pas un numéro de portable valide.")
        recipient, store_id = campaigns.Recipient(phone=number.e164), None
    try:
        campaign = campaigns.draft(
            "single", body=text, recipients=[recipient], store_id=store_id, add_stop=add_stop
        )
    except campaigns.CampaignError as error:  # empty, too long, module off: as the screens say
        raise click.ClickException(str(error)) from error
    message = campaign_message(campaign.id)
    if message.state == "skipped":
        raise click.ClickException(f"SMS non envoyé : {message.skip_reason}.")
    try:
        campaigns.queue_now(campaign.id)
    except campaigns.CampaignError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"SMS n° {message.id} pour {phones.display(message.phone)} mis en file d'envoi.")
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        if campaign_message(campaign.id).state in ("delivered", "failed", "expired", "no_receipt"):
            break
        time.sleep(0.5)
    message = campaign_message(campaign.id)
    click.echo(f"État : {message.state}{' — ' + message.error if message.error else ''}")


def campaign_message(campaign_id):
    return db.session.scalar(select(Message).where(Message.campaign_id == campaign_id))


@click.command("worker")
@click.option("--burst", is_flag=True, help="S'arrêter quand la file est vide.")
@with_appcontext
def worker(burst):
    """Run one RQ worker with the scheduler (deferred sends) and the sweep."""
    run_worker(current_app._get_current_object(), burst=burst)


ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
WEB_THREADS = 8


def gunicorn_options(workers=None, threads=WEB_THREADS):
    """gthread workers: a request waits on the database or streams an export in its own
    thread while the others keep serving short pages, and a slow client does not hold a
    whole process (sync workers did both). One process per core uses the cores; the
    threads cover the time spent waiting on PostgreSQL and Redis. The timeout only
    watches the process's heartbeat, which a long request in a thread does not stop:
    what is long (exports, freezing a list, imports) runs in jobs anyway."""
    workers = workers or max(2, os.cpu_count() or 1)
    return ["--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads)]


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option(
    "--web-workers",
    type=int,
    default=None,
    help="Processus web (défaut : un par cœur, au moins 2).",
)
@click.option(
    "--threads",
    type=int,
    default=WEB_THREADS,
    show_default=True,
    help="Requêtes servies en même temps par processus.",
)
@with_appcontext
def serve(host, port, web_workers, threads):
    """Everything on one machine: embedded Redis, one RQ worker, gunicorn. Ctrl-C stops all."""
    embedded = None
    env = dict(os.environ)
    if not current_app.config["REDIS_URL"]:
        embedded = EmbeddedRedis(current_app.instance_path).start()
        env["REDIS_URL"] = embedded.url
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    gunicorn = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    gunicorn += gunicorn_options(web_workers, threads) + ["--access-logfile", "-"]
    # Paths without their query strings: gateways' callbacks carry the hooks secret there.
    gunicorn += ["--access-logformat", ACCESS_LOG_FORMAT, "app:app"]
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    # Set before the children start (they begin with the default handlers) and said
    # outright: a process started in the background by a script (CI's second suite)
    # inherits SIGINT ignored, and Python leaves it so; the children, in process groups
    # of their own, stop only when this process stops them.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # Each child leads a process group of its own, stopped as a whole below: gunicorn's
    # master killed after the wait left a worker of its behind once, still holding the
    # port (and the terminal) after Ctrl-C.
    children = [
        subprocess.Popen(flask + ["worker"], env=env, process_group=0),
        subprocess.Popen(gunicorn, env=env, process_group=0),
    ]
    click.echo(f"ShopSMS : http://{host}:{port}  (Ctrl-C pour tout arrêter)")
    exited = None
    try:
        while not stopping and exited is None:
            exited = next((child for child in children if child.poll() is not None), None)
            time.sleep(0.3)
    finally:
        _stop_children(children)
        if embedded is not None:
            embedded.stop()
    # A child that died by itself (not by Ctrl-C or SIGTERM) is an error worth saying.
    if exited is not None and exited.returncode not in (0, -signal.SIGINT, -signal.SIGTERM):
        command = " ".join(str(arg) for arg in exited.args[2:5])
        raise click.ClickException(
            f"« {command} » s'est arrêté (code {exited.returncode}) : tout a été arrêté."
        )


def _stop_children(children, timeout=15):
    """What Ctrl-C then a second stop do, to each child's whole group: the worker ends
    its job (RQ's warm then cold shutdown), gunicorn its requests; whatever of a group
    is left after `timeout` seconds is killed (the sweep takes back an unfinished job)."""
    for sent in (signal.SIGINT, signal.SIGTERM):
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, sent)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # a worker its master left behind


def init_app(app):
    for command in (
        users_cli,
        demo_cli,
        sms_cli,
        secrets_cli,
        smpp_cli,
        worker,
        serve,
        import_command,
    ):
        app.cli.add_command(command)
