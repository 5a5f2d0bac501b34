import { TIER_CATALOG, type TenantProfile } from '@app/contracts';

/** Spec 11.2 and the deprovisioning notices, in French, as plain text and HTML (every value escaped). */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export const DOCS_URL = 'https://docs.collectverything.com';
export const SUPPORT_EMAIL = 'support@collectverything.com';

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** French amounts: "124,99" for cents, "1249" for whole euros (as spec 11.2 writes them). */
export function formatEur(amount: number): string {
  const cents = Math.round(amount * 100);
  const units = Math.trunc(cents / 100);
  const rest = cents % 100;
  return rest === 0 ? String(units) : `${units},${String(rest).padStart(2, '0')}`;
}

/** "15/07/2025" (UTC), the date format French readers expect. */
export function formatDateFr(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new Error('invalid date');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  return `${dd}/${mm}/${date.getUTCFullYear()}`;
}

/**
 * A text line is either plain text or a list of segments where some are values (escaped in HTML) and the
 * rest is template text; keeping one source for both parts guarantees they say the same thing.
 */
type Line = string | { label: string; value: string; href?: string };

function render(subject: string, lines: Line[]): RenderedEmail {
  const text = lines.map((l) => (typeof l === 'string' ? l : `${l.label}${l.value}`)).join('\n') + '\n';
  const htmlLines = lines.map((l) => {
    if (typeof l === 'string') return l === '' ? '<br>' : `<p>${escapeHtml(l)}</p>`;
    const value = l.href
      ? `<a href="${escapeHtml(l.href)}">${escapeHtml(l.value)}</a>`
      : `<strong>${escapeHtml(l.value)}</strong>`;
    return `<p>${escapeHtml(l.label)}${value}</p>`;
  });
  const html =
    `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>` +
    `<body>${htmlLines.join('\n')}</body></html>\n`;
  return { subject, text, html };
}

export const WELCOME_SUBJECT = 'Bienvenue sur Collect & Verything - Votre Plateforme E-commerce est Prete !';

export function renderWelcomeEmail(tenant: TenantProfile, temporaryPassword: string): RenderedEmail {
  const plan = TIER_CATALOG[tenant.tier].plan;
  const storeUrl = `https://${tenant.domain}`;
  const adminUrl = `https://${tenant.domain}/admin`;
  return render(WELCOME_SUBJECT, [
    { label: 'Chere Equipe ', value: tenant.companyName },
    '',
    "Votre plateforme e-commerce Collect & Verything est maintenant en ligne et prete a l'emploi !",
    '',
    { label: 'URL Boutique : ', value: storeUrl, href: storeUrl },
    { label: 'Portail Admin : ', value: adminUrl, href: adminUrl },
    '',
    'Identifiants Initiaux :',
    { label: "Nom d'utilisateur : ", value: tenant.adminEmail },
    { label: 'Mot de passe temporaire : ', value: temporaryPassword },
    '(Vous serez invite a le modifier lors de la premiere connexion)',
    '',
    'Votre Abonnement :',
    { label: 'Forfait : ', value: plan.label },
    { label: 'Sites : ', value: `${plan.sites} sites e-commerce` },
    {
      label: 'Ressources : ',
      value: `${plan.cpuCores} coeurs CPU, ${plan.ramGb} Go RAM, ${plan.storageGb} Go stockage`,
    },
    {
      label: 'Prix Mensuel : ',
      value: `${formatEur(plan.monthlyPriceEur)} EUR (ou ${formatEur(plan.annualPriceEur)} EUR annuel avec 2 mois gratuits)`,
    },
    '',
    'Demarrage :',
    '1. Connectez-vous a votre portail admin',
    '2. Telechargez votre catalogue produits',
    '3. Configurez les methodes de paiement',
    '4. Personnalisez le theme de votre boutique',
    "5. Invitez les membres de l'equipe",
    '',
    { label: 'Documentation : ', value: DOCS_URL, href: DOCS_URL },
    { label: 'Support : ', value: SUPPORT_EMAIL, href: `mailto:${SUPPORT_EMAIL}` },
    '',
    'Bienvenue a bord !',
    "L'Equipe Collect & Verything",
  ]);
}

export function renderCancellationNotice(tenant: TenantProfile, deletionDate: string): RenderedEmail {
  const storeUrl = `https://${tenant.domain}`;
  return render('Collect & Verything - Confirmation de resiliation de votre abonnement', [
    { label: 'Chere Equipe ', value: tenant.companyName },
    '',
    'Nous avons bien pris en compte la resiliation de votre abonnement Collect & Verything.',
    { label: 'Votre boutique : ', value: storeUrl, href: storeUrl },
    '',
    // No number of days: the deletion date below is billing's `effective_date` or the configured grace period.
    "Une periode de grace commence aujourd'hui : vos donnees sont conservees et sauvegardees jusqu'a la date",
    'de suppression definitive ci-dessous.',
    { label: 'Date de suppression definitive : ', value: formatDateFr(deletionDate) },
    '',
    'Pour reactiver votre plateforme :',
    '1. Souscrivez a nouveau un abonnement avant la date de suppression',
    "2. Votre boutique, vos donnees et vos acces seront retablis a l'identique",
    '',
    { label: 'Une question ? Contactez ', value: SUPPORT_EMAIL, href: `mailto:${SUPPORT_EMAIL}` },
    '',
    "L'Equipe Collect & Verything",
  ]);
}

export function renderReactivationNotice(tenant: TenantProfile, reactivatedAt: string): RenderedEmail {
  const storeUrl = `https://${tenant.domain}`;
  return render('Collect & Verything - Votre plateforme est reactivee', [
    { label: 'Chere Equipe ', value: tenant.companyName },
    '',
    'Bonne nouvelle : votre plateforme e-commerce Collect & Verything est de nouveau active.',
    { label: 'Date de reactivation : ', value: formatDateFr(reactivatedAt) },
    { label: 'URL Boutique : ', value: storeUrl, href: storeUrl },
    '',
    'La suppression programmee est annulee ; vos donnees et vos acces sont inchanges.',
    '',
    { label: 'Support : ', value: SUPPORT_EMAIL, href: `mailto:${SUPPORT_EMAIL}` },
    '',
    "L'Equipe Collect & Verything",
  ]);
}

export function renderDeletionConfirmation(tenant: TenantProfile, purgedAt: string): RenderedEmail {
  return render('Collect & Verything - Suppression definitive de votre plateforme', [
    { label: 'Chere Equipe ', value: tenant.companyName },
    '',
    'La periode de grace est terminee : votre plateforme et ses donnees ont ete supprimees.',
    { label: 'Date de suppression : ', value: formatDateFr(purgedAt) },
    { label: 'Boutique concernee : ', value: tenant.domain },
    '',
    'Une archive de vos donnees est conservee selon notre politique de retention.',
    'Pour toute demande concernant cette archive, contactez notre support.',
    '',
    { label: 'Support : ', value: SUPPORT_EMAIL, href: `mailto:${SUPPORT_EMAIL}` },
    '',
    'Merci de nous avoir fait confiance.',
    "L'Equipe Collect & Verything",
  ]);
}
