// A Java application signing with the card through Java 17's SunPKCS11 provider, the way a
// healthcare desktop application would: configure the provider from a config file, open the
// PKCS11 key store with the PIN, pick the key by its alias (the certificate label), sign, and
// verify the signature with the certificate's public key (the JDK's own software provider).
//
//   java CardSign CONFIG PIN ALIAS ALGORITHM
//   ALGORITHM: SHA256withRSA (SunPKCS11 uses CKM_SHA256_RSA_PKCS when the token lists it,
//              else CKM_RSA_PKCS over a DigestInfo it builds)
//              SHA256withRSA/PSS (RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32)
// Prints "aliases: ..." and "signed ... verified" and exits 0, or exits 1 with the error.
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Collections;

public class CardSign {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: CardSign CONFIG PIN ALIAS SHA256withRSA[/PSS]");
            System.exit(2);
        }
        Provider p = Security.getProvider("SunPKCS11").configure(args[0]);
        Security.addProvider(p);
        KeyStore ks = KeyStore.getInstance("PKCS11", p);
        ks.load(null, args[1].toCharArray());
        System.out.println("aliases: " + Collections.list(ks.aliases()));
        String alias = args[2];
        PrivateKey key = (PrivateKey) ks.getKey(alias, null);
        X509Certificate cert = (X509Certificate) ks.getCertificate(alias);
        if (key == null || cert == null) {
            System.err.println("no key/certificate pair under alias '" + alias + "'");
            System.exit(1);
        }
        byte[] data = ("cpscard java " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
        boolean pss = args[3].equals("SHA256withRSA/PSS");
        Signature s = Signature.getInstance(pss ? "RSASSA-PSS" : args[3], p);
        PSSParameterSpec spec = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);
        if (pss) s.setParameter(spec);
        s.initSign(key);
        s.update(data);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(pss ? "RSASSA-PSS" : "SHA256withRSA"); // the JDK's software provider
        if (pss) v.setParameter(spec);
        v.initVerify(cert.getPublicKey());
        v.update(data);
        boolean ok = v.verify(sig);
        System.out.println("signed " + sig.length + " bytes with '" + alias + "' (" + args[3] + ", provider "
            + s.getProvider().getName() + "), serial " + cert.getSerialNumber().toString(16) + ": "
            + (ok ? "verified" : "VERIFICATION FAILED"));
        System.exit(ok ? 0 : 1);
    }
}
