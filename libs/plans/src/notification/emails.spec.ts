import type { TenantProfile } from '@app/contracts';
import { escapeHtml, formatDateFr, formatEur, renderCancellationNotice, renderWelcomeEmail } from './emails';

const abc: TenantProfile = {
  tenantId: 'abc-corporation-7f3a9c',
  companyName: 'ABC Corporation',
  adminEmail: 'admin@abc-corp.com',
  billingEmail: 'billing@abc-corp.com',
  tier: 'premium',
  region: 'eu-west',
  domain: 'abc-corporation.collectverything.com',
  subscriptionId: 'sub_abc123',
  plan: { price: 124.99, currency: 'EUR', billingPeriod: 'monthly' },
  createdAt: '2025-01-15T10:30:00Z',
};

describe('welcome e-mail (spec 11.2)', () => {
  it('is the spec template word for word for a premium tenant', () => {
    const email = renderWelcomeEmail(abc, 'Tmp-Pass#2025');
    expect(email.subject).toBe('Bienvenue sur Collect & Verything - Votre Plateforme E-commerce est Prete !');
    expect(email.text).toBe(
      [
        'Chere Equipe ABC Corporation',
        '',
        "Votre plateforme e-commerce Collect & Verything est maintenant en ligne et prete a l'emploi !",
        '',
        'URL Boutique : https://abc-corporation.collectverything.com',
        'Portail Admin : https://abc-corporation.collectverything.com/admin',
        '',
        'Identifiants Initiaux :',
        "Nom d'utilisateur : admin@abc-corp.com",
        'Mot de passe temporaire : Tmp-Pass#2025',
        '(Vous serez invite a le modifier lors de la premiere connexion)',
        '',
        'Votre Abonnement :',
        'Forfait : Tier Premium',
        'Sites : 3 sites e-commerce',
        'Ressources : 6 coeurs CPU, 12 Go RAM, 150 Go stockage',
        'Prix Mensuel : 124,99 EUR (ou 1249 EUR annuel avec 2 mois gratuits)',
        '',
        'Demarrage :',
        '1. Connectez-vous a votre portail admin',
        '2. Telechargez votre catalogue produits',
        '3. Configurez les methodes de paiement',
        '4. Personnalisez le theme de votre boutique',
        "5. Invitez les membres de l'equipe",
        '',
        'Documentation : https://docs.collectverything.com',
        'Support : support@collectverything.com',
        '',
        'Bienvenue a bord !',
        "L'Equipe Collect & Verything",
        '',
      ].join('\n'),
    );
  });

  it('escapes every value in the HTML part', () => {
    const email = renderWelcomeEmail({ ...abc, companyName: 'A<b>&"c\'' }, '<pw&>');
    expect(email.html).toContain('A&lt;b&gt;&amp;&quot;c&#39;');
    expect(email.html).toContain('<strong>&lt;pw&amp;&gt;</strong>');
    expect(email.html).not.toContain('<b>');
  });

  it('uses the tier catalog for other tiers', () => {
    expect(renderWelcomeEmail({ ...abc, tier: 'standard' }, 'x').text).toContain(
      'Prix Mensuel : 49,99 EUR (ou 499 EUR annuel avec 2 mois gratuits)',
    );
  });
});

describe('French formatting', () => {
  it('formats euros and dates the French way', () => {
    expect([formatEur(124.99), formatEur(1249), formatEur(49.9), formatEur(0.05)]).toEqual([
      '124,99',
      '1249',
      '49,90',
      '0,05',
    ]);
    expect(formatDateFr('2025-07-15T00:00:00Z')).toBe('15/07/2025');
    expect(() => formatDateFr('nope')).toThrow();
    expect(escapeHtml('<&>')).toBe('&lt;&amp;&gt;');
  });

  it('states the deletion date and how to reactivate in the cancellation notice', () => {
    const email = renderCancellationNotice(abc, '2025-07-15T00:00:00Z');
    expect(email.text).toContain('Date de suppression definitive : 15/07/2025');
    expect(email.text).toContain('Souscrivez a nouveau un abonnement avant la date de suppression');
  });
});
