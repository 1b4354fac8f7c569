<?php
// Prints MediaWiki's per-language data (languages/messages/Messages*.php and the
// language names of includes/languages/data/Names.php) as one JSON object on stdout.
// Run by scripts/build_langdata.py: php langdata.php /usr/share/mediawiki
$root = $argv[1];
foreach ( [ 'NS_MEDIA' => -2, 'NS_SPECIAL' => -1, 'NS_MAIN' => 0, 'NS_TALK' => 1, 'NS_USER' => 2,
	'NS_USER_TALK' => 3, 'NS_PROJECT' => 4, 'NS_PROJECT_TALK' => 5, 'NS_FILE' => 6, 'NS_FILE_TALK' => 7,
	'NS_MEDIAWIKI' => 8, 'NS_MEDIAWIKI_TALK' => 9, 'NS_TEMPLATE' => 10, 'NS_TEMPLATE_TALK' => 11,
	'NS_HELP' => 12, 'NS_HELP_TALK' => 13, 'NS_CATEGORY' => 14, 'NS_CATEGORY_TALK' => 15,
	'NS_IMAGE' => 6, 'NS_IMAGE_TALK' => 7, 'MW_DATE_DEFAULT' => 'default', 'MW_DATE_MDY' => 'mdy',
	'MW_DATE_DMY' => 'dmy', 'MW_DATE_YMD' => 'ymd', 'MW_DATE_ISO' => 'ISO 8601' ] as $name => $value ) {
	if ( !defined( $name ) ) {
		define( $name, $value );
	}
}
const KEEP = [ 'fallback', 'rtl', 'digitTransformTable', 'separatorTransformTable', 'minimumGroupingDigits',
	'digitGroupingPattern', 'namespaceNames', 'namespaceAliases', 'namespaceGenderAliases', 'magicWords',
	'dateFormats', 'defaultDateFormat' ];

function readMessagesFile( string $file ): array {
	include $file;
	$out = [];
	foreach ( KEEP as $name ) {
		if ( isset( $$name ) ) {
			$out[$name] = $$name;
		}
	}
	return $out;
}

$languages = [];
foreach ( glob( "$root/languages/messages/Messages*.php" ) as $file ) {
	$code = strtolower( str_replace( '_', '-', substr( basename( $file, '.php' ), 8 ) ) );
	$languages[$code] = readMessagesFile( $file );
}
// Extensions' magic words ({{#if:}}, {{#invoke:}}) per language, added to the core ones.
function readExtensionMagic( string $file ): array {
	include $file;
	return $magicWords ?? [];
}
foreach ( [ 'extensions/ParserFunctions/ParserFunctions.i18n.magic.php', 'extensions/Scribunto/Scribunto.magic.php' ]
	as $file ) {
	if ( !file_exists( "$root/$file" ) ) {
		continue;
	}
	foreach ( readExtensionMagic( "$root/$file" ) as $lang => $words ) {
		$code = strtolower( str_replace( '_', '-', $lang ) );
		if ( !isset( $languages[$code] ) || !is_array( $languages[$code] ) ) {
			$languages[$code] = [];
		}
		$languages[$code]['magicWords'] = ( $languages[$code]['magicWords'] ?? [] ) + $words;
	}
}
require_once "$root/includes/languages/data/Names.php";
$names = \MediaWiki\Languages\Data\Names::$names;
echo json_encode( [ 'languages' => $languages, 'names' => $names ],
	JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR );
